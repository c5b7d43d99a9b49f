"""Issue 5: every data table can be scrolled sideways by keyboard.

On a phone a wide table scrolls inside its ``.table-wrap`` (site.css). A keyboard user
can only scroll it if the wrapper takes focus, and a focusable wrapper needs a role and a
name (axe's scrollable-region-focusable rule, WCAG 2.1.1). So each ``<table>`` in the
templates sits directly in::

    <div class="table-wrap" tabindex="0" role="region" aria-labelledby="X">

where ``X`` is the id of the table's caption (or of a heading) in the same template.
The browser check of the same thing, at 320 px, is in tests/e2e/test_accessibility_phone.py.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "safeclass" / "templates",
                 *sorted((ROOT / "safeclass").glob("*/templates"))]

# Templates whose tables are not (yet) wrapped, each with its reason.
NOT_CHECKED = {
    # allauth's table element: used only by allauth pages SafeClass does not serve
    # (WebAuthn keys, user sessions); it has no caption to name a region by.
    "allauth/elements/table.html": "allauth pages not used by SafeClass",
}

TABLE = re.compile(r"<table\b(?P<attrs>[^>]*)>")
WRAP = re.compile(r'<div class="table-wrap"(?P<attrs>[^>]*)>(?:\s|\{#.*?#\})*$', re.S)


def _templates() -> list[tuple[str, str]]:
    found = []
    for folder in TEMPLATE_DIRS:
        for path in sorted(folder.rglob("*.html")):
            found.append((path.relative_to(folder).as_posix(), path.read_text()))
    return found


def _problems(name: str, text: str) -> list[str]:
    problems = []
    for table in TABLE.finditer(text):
        if 'role="presentation"' in table["attrs"]:
            continue  # an email's layout table, not data
        line = text.count("\n", 0, table.start()) + 1
        before = text[:table.start()]
        wrap = WRAP.search(before, before.rfind("<div"))
        if wrap is None:
            problems.append(f"{name}:{line}: <table> not directly inside a div.table-wrap")
            continue
        attrs = wrap["attrs"]
        for needed in ('tabindex="0"', 'role="region"'):
            if needed not in attrs:
                problems.append(f"{name}:{line}: the table-wrap has no {needed}")
        label = re.search(r'aria-labelledby="([^"]+)"', attrs)
        if label is None:
            problems.append(f"{name}:{line}: the table-wrap has no aria-labelledby")
        elif f'id="{label[1]}"' not in text:
            problems.append(f"{name}:{line}: aria-labelledby={label[1]!r} names no id "
                            "in the template")
    return problems


def test_every_table_is_in_a_focusable_named_scrolling_region() -> None:
    problems = []
    checked = 0
    for name, text in _templates():
        if name in NOT_CHECKED or "<table" not in text:
            continue
        checked += 1
        problems += _problems(name, text)
    assert checked >= 9, "no templates with tables found: has the layout changed?"
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_bare_table() -> None:
    bad = '<div class="table-wrap">\n<table>\n<caption id="c">x</caption></table></div>'
    assert _problems("bad.html", bad) == [
        'bad.html:2: the table-wrap has no tabindex="0"',
        'bad.html:2: the table-wrap has no role="region"',
        "bad.html:2: the table-wrap has no aria-labelledby"]
    assert _problems("bare.html", "<p>x</p><table></table>") == [
        "bare.html:1: <table> not directly inside a div.table-wrap"]
    good = ('<div class="table-wrap" tabindex="0" role="region" aria-labelledby="c">\n'
            '{# why #}\n<table><caption id="c">x</caption></table></div>')
    assert _problems("good.html", good) == []
    assert _problems("email.html", '<table role="presentation"></table>') == []
