"""A school's policy settings: which rules are on and the numbers the rules use.

The defaults are the policy document's. Tightening a setting is an ordinary edit;
loosening one needs the head and a written reason, so ``loosened`` tells the caller
exactly which changes loosen the policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .errors import PolicyError, Violation
from .rules import RULES_BY_ID, SWITCHABLE, RuleId
from .words import _, ngettext

# Limits a school may choose within. They bound mistakes (a 3000-minute lesson, a
# retention of 0 days that would delete evidence at once), not the school's judgement.
MAX_DURATION_LIMITS = (5, 240)
MIN_GROUP_SIZE_LIMITS = (2, 60)
RETENTION_DAYS_LIMITS = (1, 3650)

_SWITCHABLE_IDS: frozenset[str] = frozenset(str(r) for r in SWITCHABLE)
_NUMBER_FIELDS = ("max_duration_minutes", "min_group_size", "retention_days")


def _all_on() -> Mapping[str, bool]:
    return MappingProxyType({str(r): True for r in SWITCHABLE})


@dataclass(frozen=True)
class PolicySettings:
    # Every switchable rule id maps to on/off. A partial mapping is completed with "on",
    # so a rule added in a later release starts on for schools that never saw it.
    switches: Mapping[str, bool] = field(default_factory=_all_on)
    max_duration_minutes: int = 30
    min_group_size: int = 2
    retention_days: int = 365

    def __post_init__(self) -> None:
        # Reject the wrong shape here, but leave out-of-range numbers to ``validate`` so a
        # form can show every range problem at once.
        full: dict[str, bool] = {str(r): True for r in SWITCHABLE}
        for key, value in self.switches.items():
            if key not in _SWITCHABLE_IDS:
                raise PolicyError(
                    f"switches.{key}",
                    _("{key} is not a rule that can be switched on or off").format(key=repr(key)),
                )
            if not isinstance(value, bool):
                raise PolicyError(
                    f"switches.{key}", _("{key} must be on (true) or off (false)").format(key=key)
                )
            full[key] = value
        # Copy into a read-only view so nobody can change a school's policy behind its back
        # by mutating the dict they passed in.
        object.__setattr__(self, "switches", MappingProxyType(full))
        for name in _NUMBER_FIELDS:
            value = getattr(self, name)
            # bool is an int subclass; True as a group size is a bug, not a 1.
            if not isinstance(value, int) or isinstance(value, bool):
                raise PolicyError(name, _("{name} must be a whole number").format(name=name))

    def __hash__(self) -> int:
        # The generated hash would fail on the mapping proxy; hash its items instead.
        return hash(
            (
                frozenset(self.switches.items()),
                self.max_duration_minutes,
                self.min_group_size,
                self.retention_days,
            )
        )

    def is_on(self, rule_id: str) -> bool:
        """Whether the rule is checked. Rules tuned by a number are always on."""
        if rule_id in self.switches:
            return self.switches[rule_id]
        if rule_id in RULES_BY_ID:
            return True
        raise PolicyError(
            "switches", _("{rule} is not a policy rule").format(rule=repr(rule_id))
        )


DEFAULT_POLICY = PolicySettings()


def to_dict(p: PolicySettings) -> dict[str, object]:
    """A JSON-safe copy; ``from_dict`` turns it back into an equal ``PolicySettings``."""
    return {
        "switches": {str(r): p.switches[str(r)] for r in SWITCHABLE},
        "max_duration_minutes": p.max_duration_minutes,
        "min_group_size": p.min_group_size,
        "retention_days": p.retention_days,
    }


def from_dict(d: Mapping[str, object]) -> PolicySettings:
    """Read settings saved by ``to_dict``. Missing keys take the policy document's default;
    unknown keys and wrong types raise ``PolicyError`` rather than being ignored, because a
    silently dropped setting would mean a rule the school thinks is on is not."""
    known = {"switches", *_NUMBER_FIELDS}
    for key in d:
        if key not in known:
            raise PolicyError(str(key), _("{key} is not a policy setting").format(key=repr(key)))
    switches_raw = d.get("switches", {})
    if not isinstance(switches_raw, Mapping):
        raise PolicyError("switches", _("switches must map rule ids to true or false"))
    switches: dict[str, bool] = {}
    for key, value in switches_raw.items():
        if not isinstance(key, str):
            raise PolicyError("switches", _("switches must map rule ids to true or false"))
        switches[key] = value
    numbers: dict[str, int] = {}
    for name in _NUMBER_FIELDS:
        if name in d:
            value = d[name]
            if not isinstance(value, int) or isinstance(value, bool):
                raise PolicyError(name, _("{name} must be a whole number").format(name=name))
            numbers[name] = value
    return PolicySettings(
        switches=switches,
        max_duration_minutes=numbers.get("max_duration_minutes", 30),
        min_group_size=numbers.get("min_group_size", 2),
        retention_days=numbers.get("retention_days", 365),
    )


def validate(p: PolicySettings) -> list[Violation]:
    """Every out-of-range number, each naming its field and the allowed range."""
    out: list[Violation] = []
    low, high = MAX_DURATION_LIMITS
    if not low <= p.max_duration_minutes <= high:
        out.append(
            Violation(
                RuleId.MAX_DURATION,
                _(
                    "The longest lesson (max_duration_minutes) must be between {low} and {high} "
                    "minutes; {value} is not allowed."
                ).format(low=low, high=high, value=p.max_duration_minutes),
                "max_duration_minutes",
            )
        )
    low, high = MIN_GROUP_SIZE_LIMITS
    if p.min_group_size < low:
        out.append(
            Violation(
                RuleId.GROUP_ONLY,
                ngettext(
                    "The smallest group (min_group_size) must be at least {low} pupil: "
                    "lessons are never one to one.",
                    "The smallest group (min_group_size) must be at least {low} pupils: "
                    "lessons are never one to one.",
                    low,
                ).format(low=low),
                "min_group_size",
            )
        )
    elif p.min_group_size > high:
        out.append(
            Violation(
                RuleId.GROUP_ONLY,
                ngettext(
                    "The smallest group (min_group_size) can be at most {high} pupil; "
                    "{value} is not allowed.",
                    "The smallest group (min_group_size) can be at most {high} pupils; "
                    "{value} is not allowed.",
                    high,
                ).format(high=high, value=p.min_group_size),
                "min_group_size",
            )
        )
    low, high = RETENTION_DAYS_LIMITS
    if not low <= p.retention_days <= high:
        out.append(
            Violation(
                RuleId.RECORDING_RETENTION,
                _(
                    "Recordings must be kept (retention_days) for between {low} and {high} "
                    "days; {value} is not allowed."
                ).format(low=low, high=high, value=p.retention_days),
                "retention_days",
            )
        )
    return out


@dataclass(frozen=True)
class Change:
    rule: str
    # "switches.<rule id>" for an on/off change, otherwise the settings field name.
    field: str
    before: object
    after: object
    loosens: bool


def changes(old: PolicySettings, new: PolicySettings) -> list[Change]:
    """Every changed value, in the order of the policy table."""
    out: list[Change] = []
    for rule_id in SWITCHABLE:
        key = str(rule_id)
        before, after = old.switches[key], new.switches[key]
        if before != after:
            # Switching a rule off is the loosening direction.
            out.append(Change(key, f"switches.{key}", before, after, loosens=before and not after))
    # Numbers: a longer lesson, a smaller group or keeping recordings longer all loosen.
    numeric = (
        (
            RuleId.MAX_DURATION,
            "max_duration_minutes",
            old.max_duration_minutes,
            new.max_duration_minutes,
            new.max_duration_minutes > old.max_duration_minutes,
        ),
        (
            RuleId.GROUP_ONLY,
            "min_group_size",
            old.min_group_size,
            new.min_group_size,
            new.min_group_size < old.min_group_size,
        ),
        (
            RuleId.RECORDING_RETENTION,
            "retention_days",
            old.retention_days,
            new.retention_days,
            new.retention_days > old.retention_days,
        ),
    )
    for rule_id, name, before_n, after_n, loosens in numeric:
        if before_n != after_n:
            out.append(Change(str(rule_id), name, before_n, after_n, loosens))
    order = {str(r): i for i, r in enumerate(RuleId)}
    out.sort(key=lambda c: order[c.rule])
    return out


def loosened(old: PolicySettings, new: PolicySettings) -> list[Change]:
    """The changes that need the head's sign-off and a written reason."""
    return [c for c in changes(old, new) if c.loosens]
