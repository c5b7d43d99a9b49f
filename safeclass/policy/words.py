"""The words of the policy core's messages, in the reader's language.

The core is plain Python with no Django, so it cannot know who is reading. It writes
every message through the functions below, which call a translator: English as written
until one is installed. At start-up the Django side installs Django's own ``gettext``,
``ngettext`` and ``pgettext`` (``SchoolsConfig.ready``), so each message comes out in the
language active for the request: the edge chooses the language, the core stays free of
Django and its unit tests need no set-up.

How to write a message here:

- Translate the template, then fill it in, with named placeholders:
  ``_("{email} cannot host this lesson ({rule}).").format(email=..., rule=...)``. Never an
  f-string around words, nor ``+`` between pieces of a sentence: a translator gets the
  whole sentence and may put the placeholders in another order.
- ``ngettext`` when the words depend on a number (Welsh has four plural forms).
- ``pgettext`` when the same English word needs different translations (Welsh day names
  mutate after "i", "to").
- ``gettext_noop`` marks a module-level constant (a rule's title) for the catalogue without
  translating it then; translate it where it is shown, with ``_(constant)``.

``makemessages`` finds these calls by their names (``_``, ``gettext_noop``, ``ngettext``,
``pgettext``), whichever module they come from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


def _english(message: str) -> str:
    return message


def _english_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def _english_in_context(context: str, message: str) -> str:
    return message


@dataclass(frozen=True)
class Translator:
    gettext: Callable[[str], str]
    ngettext: Callable[[str, str, int], str]
    pgettext: Callable[[str, str], str]


ENGLISH = Translator(_english, _english_plural, _english_in_context)

_installed = ENGLISH


def install_translator(translator: Translator) -> Translator:
    """Translate the core's messages with ``translator`` from now on, and return the one
    it replaces (so a test can put it back). Installing the same one again changes
    nothing."""
    global _installed
    previous, _installed = _installed, translator
    return previous


def _(message: str) -> str:
    return _installed.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _installed.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return _installed.pgettext(context, message)


def gettext_noop(message: str) -> str:
    """Mark ``message`` for the catalogue; it is translated where it is shown."""
    return message


def join_and(parts: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c", in the reader's language."""
    if len(parts) <= 1:
        return "".join(parts)
    return _("{items} and {last}").format(items=", ".join(parts[:-1]), last=parts[-1])
