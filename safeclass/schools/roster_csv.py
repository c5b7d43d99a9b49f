"""Reading a roster CSV: bytes in, rows and line-numbered problems out.

No database access here: this checks the file on its own terms (encoding, header, each
line, repeats within the file). Matching rows against pupils already on the roster is
the import plan's job in services.py. docs/roster-import.md documents the format.

Line numbers are the line of the file a person sees in a text editor or spreadsheet
(the header is line 1), counting from the first line of a row that spans several lines.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from .validators import name_problem

REQUIRED_COLUMNS = ("first_name", "last_name", "class", "parent_name", "parent_email")
OPTIONAL_COLUMNS = ("pupil_reference",)
MAX_ROWS = 5000
# Generous for 5,000 rows of names and emails; refuses a wrong file before reading it.
MAX_BYTES = 5 * 1024 * 1024

_LIMITS = {"first_name": 100, "last_name": 100, "class": 100, "parent_name": 200}
_MAX_EMAIL = 254
_MAX_REFERENCE = 64


@dataclass(frozen=True)
class RosterRow:
    line: int
    first_name: str
    last_name: str
    group_name: str
    parent_name: str
    parent_email: str
    reference: str = ""

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> RosterRow:
        return cls(line=int(str(data["line"])), first_name=str(data["first_name"]),
                   last_name=str(data["last_name"]), group_name=str(data["group_name"]),
                   parent_name=str(data["parent_name"]), parent_email=str(data["parent_email"]),
                   reference=str(data.get("reference", "")))

    @property
    def identity(self) -> tuple[str, str, str]:
        """Who this row is when it has no pupil reference (case-insensitive)."""
        return (self.first_name.casefold(), self.last_name.casefold(),
                self.parent_email.casefold())


@dataclass(frozen=True)
class RosterError:
    line: int | None  # None: about the whole file
    message: str
    column: str = ""

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return _("Line {line}: {message}").format(line=self.line, message=self.message)


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RosterError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _decode(data: bytes) -> str | RosterError:
    if b"\x00" in data:
        return RosterError(None, _("This is not a CSV file: it contains binary data. Save the "
                                   "spreadsheet as “CSV UTF-8 (comma delimited)” and try again."))
    try:
        # utf-8-sig drops a byte order mark, which Excel writes at the start of CSV UTF-8.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return RosterError(line, _("The file is not UTF-8 text. Save the spreadsheet as "
                                   "“CSV UTF-8 (comma delimited)” and try again."))


def _check_row(line: int, values: dict[str, str]) -> list[RosterError]:
    errors: list[RosterError] = []
    for column in REQUIRED_COLUMNS:
        if not values[column]:
            errors.append(RosterError(line, _("{column} is empty.").format(column=column),
                                      column))
    for column, limit in _LIMITS.items():
        if values[column]:
            problem = name_problem(values[column], limit)
            if problem:
                errors.append(RosterError(line, f"{column}: {problem}", column))
    email = values["parent_email"]
    if email:
        try:
            if len(email) > _MAX_EMAIL:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            errors.append(RosterError(line, _("parent_email “{email}” is not an email "
                                              "address.").format(email=email), "parent_email"))
    reference = values.get("pupil_reference", "")
    if reference:
        problem = name_problem(reference, _MAX_REFERENCE)
        if problem:
            errors.append(RosterError(line, f"pupil_reference: {problem}", "pupil_reference"))
    return errors


def parse_roster(data: bytes) -> ParsedRoster:
    """Every row and every problem in a roster file. Rows are only usable if no errors."""
    result = ParsedRoster()
    if len(data) > MAX_BYTES:
        result.errors.append(RosterError(None, _(
            "The file is too large: at most {limit} MB.").format(limit=MAX_BYTES // (1024 * 1024))))
        return result
    text = _decode(data)
    if isinstance(text, RosterError):
        result.errors.append(text)
        return result
    if not text.strip():
        result.errors.append(RosterError(None, _("The file is empty.")))
        return result

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last_line = 0
    header: list[str] | None = None
    header_line = 0
    by_reference: dict[str, int] = {}
    by_identity: dict[tuple[str, str, str], tuple[int, str]] = {}
    row_count = 0
    try:
        for record in reader:
            line = last_line + 1
            last_line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines are allowed anywhere
            if header is None:
                header, header_line = [c.strip().lower() for c in record], line
                problems = _check_header(header, line)
                if problems:
                    result.errors.extend(problems)
                    return result
                continue
            row_count += 1
            if row_count > MAX_ROWS:
                result.errors.append(RosterError(line, _(
                    "The file has more than {limit} pupils. Split it into smaller files, for "
                    "example one per year group.").format(limit=MAX_ROWS)))
                return result
            if len(record) != len(header):
                result.errors.append(RosterError(line, _(
                    "This line has {found} values but the header on line {header_line} has "
                    "{expected} columns. Check for a missing or extra comma, and put values "
                    "containing commas in double quotes.").format(
                    found=len(record), header_line=header_line, expected=len(header))))
                continue
            values = {name: cell.strip() for name, cell in zip(header, record, strict=True)}
            values.setdefault("pupil_reference", "")
            problems = _check_row(line, values)
            if problems:
                result.errors.extend(problems)
                continue
            row = RosterRow(line=line, first_name=values["first_name"],
                            last_name=values["last_name"], group_name=values["class"],
                            parent_name=values["parent_name"],
                            parent_email=values["parent_email"],
                            reference=values["pupil_reference"])
            duplicate = _duplicate_of(row, by_reference, by_identity)
            if duplicate is not None:
                result.errors.append(duplicate)
                continue
            result.rows.append(row)
    except csv.Error as exc:
        result.errors.append(RosterError(reader.line_num or None, _(
            "This is not a well-formed CSV line ({detail}). Check for an unclosed double "
            "quote.").format(detail=str(exc))))
        return result
    if header is None:
        result.errors.append(RosterError(None, _("The file is empty.")))
    elif row_count == 0:
        result.errors.append(RosterError(None, _("The file has a header but no pupils.")))
    return result


def _check_header(header: list[str], line: int) -> list[RosterError]:
    errors: list[RosterError] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
            errors.append(RosterError(line, _(
                "The columns must be separated by commas, not semicolons or tabs.")))
        errors.append(RosterError(line, _(
            "The header is missing {columns}. The first line must name the columns: "
            "{expected}.").format(columns=", ".join(missing),
                                  expected=",".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS))))
    known = set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    unknown = [c for c in header if c not in known]
    if unknown:
        errors.append(RosterError(line, _(
            "The header has columns SafeClass does not know: {columns}.").format(
            columns=", ".join(c or _("(an empty column name)") for c in unknown))))
    repeated = sorted({c for c in header if c and header.count(c) > 1})
    if repeated:
        errors.append(RosterError(line, _("The header names {columns} more than once.").format(
            columns=", ".join(repeated))))
    return errors


def _duplicate_of(row: RosterRow, by_reference: dict[str, int],
                  by_identity: dict[tuple[str, str, str], tuple[int, str]]
                  ) -> RosterError | None:
    if row.reference:
        key = row.reference.casefold()
        if key in by_reference:
            return RosterError(row.line, _(
                "pupil_reference {reference} is also on line {other}: each pupil once.").format(
                reference=row.reference, other=by_reference[key]), "pupil_reference")
        by_reference[key] = row.line
    earlier = by_identity.get(row.identity)
    # Two rows with different pupil references are two pupils, even with the same name
    # and parent (twins named after a grandparent happen); otherwise it is a repeat.
    if earlier is not None and not (row.reference and earlier[1]):
        return RosterError(row.line, _(
            "The same pupil (name and parent email) is also on line {other}: each pupil "
            "once.").format(other=earlier[0]))
    by_identity.setdefault(row.identity, (row.line, row.reference))
    return None
