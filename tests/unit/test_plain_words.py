"""Plain words for pupils and parents, measured.

The issue asks for short sentences and "a reading age of about 8 for pupils". These
tests take the English words of the pages pupils and parents see (the templates' own
text and the consent items) and measure them with the usual readability formulas
(the `readability` package). The Flesch-Kincaid grade is a US school grade: grade 3 is
a reading age of about 8 to 9 (UK Year 4); grade 6 is about 11 to 12, the level plain
English guides ask for in public information.

A failure names the page, its score and its longest sentence: shorten sentences and
use shorter words, then update the Welsh (docs/translation.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import readability

from safeclass.live.models import CONSENT_ITEMS

ROOT = Path(__file__).resolve().parents[2] / "safeclass"

# Who reads each page.
PUPIL_PAGES = [
    "live/templates/live/join_rules.html",     # the rules with their pictures, the promise
    "live/templates/live/_rules_dialog.html",  # the rules again, in the lesson
    "live/templates/live/pupil_room.html",     # waiting room and lesson
]
PARENT_PAGES = [
    "invitations/templates/invitations/status.html",
    "invitations/templates/invitations/unknown.html",
    "invitations/templates/invitations/too_many.html",
    "live/templates/live/join_check.html",
    "live/templates/live/join_consent.html",
    "live/templates/live/join_held.html",
    "live/templates/live/_held.html",
]

PUPIL_GRADE, PUPIL_SENTENCE_WORDS = 3.0, 22
PARENT_GRADE, PARENT_SENTENCE_WORDS = 6.0, 25

_TRANSLATED = re.compile(
    r"""{%\s*translate\s+"(?P<dq>[^"]*)"|{%\s*translate\s+'(?P<sq>[^']*)'"""
    r"|{%\s*blocktranslate[^%]*%}(?P<block>.*?){%\s*endblocktranslate\s*%}",
    re.S,
)


def _texts(relative: str) -> list[str]:
    """The translatable English text of a template, without markup; a placeholder
    reads as a short name, as it does on the page."""
    source = (ROOT / relative).read_text(encoding="utf-8")
    # Words only staff see (the rules dialog's note for staff) are not the pupils' words.
    source = re.sub(r"{%\s*if for_staff\s*%}.*?{%\s*endif\s*%}", "", source, flags=re.S)
    out = []
    for match in _TRANSLATED.finditer(source):
        text = next(g for g in match.groups() if g is not None)
        text = re.sub(r"<[^>]+>", " ", text)
        text = re.sub(r"{{\s*[\w.]+\s*}}", "Sam", text)
        text = " ".join(text.split())
        if text:
            out.append(text)
    return out


def _sentences(texts: list[str]) -> list[str]:
    return [s.strip() for t in texts for s in re.split(r"(?<=[.!?:])\s+", t) if s.strip()]


def _grade(sentences: list[str]) -> float:
    # One sentence per line, as the package expects.
    grades = readability.getmeasures("\n".join(sentences), lang="en")["readability grades"]
    return float(grades["Kincaid"])


def _longest(sentences: list[str]) -> str:
    return max(sentences, key=lambda s: len(s.split()))


@pytest.mark.parametrize("page", PUPIL_PAGES)
def test_pupils_pages_read_at_about_age_eight(page: str) -> None:
    sentences = _sentences(_texts(page))
    assert len(sentences) >= 5, f"{page}: too little text found to measure"
    grade, longest = _grade(sentences), _longest(sentences)
    assert grade <= PUPIL_GRADE, (
        f"{page}: Flesch-Kincaid grade {grade:.1f} (at most {PUPIL_GRADE}); "
        f"the longest sentence: {longest!r}")
    assert len(longest.split()) <= PUPIL_SENTENCE_WORDS, f"{page}: too long: {longest!r}"


@pytest.mark.parametrize("page", PARENT_PAGES)
def test_parents_pages_are_plain_english(page: str) -> None:
    sentences = _sentences(_texts(page))
    assert sentences, f"{page}: no text found to measure"
    longest = _longest(sentences)
    assert len(longest.split()) <= PARENT_SENTENCE_WORDS, f"{page}: too long: {longest!r}"
    if len(sentences) >= 5:  # the formulas mean little on a handful of words
        grade = _grade(sentences)
        assert grade <= PARENT_GRADE, (
            f"{page}: Flesch-Kincaid grade {grade:.1f} (at most {PARENT_GRADE}); "
            f"the longest sentence: {longest!r}")


def test_the_consent_items_are_short_plain_sentences() -> None:
    items = [str(label) for _key, label in CONSENT_ITEMS]
    assert len(items) == 6
    for item in items:
        assert len(item.split()) <= 12, f"consent item too long: {item!r}"
    assert _grade(items) <= PARENT_GRADE


def test_the_measure_tells_hard_words_from_plain_ones() -> None:
    # The check itself works: official prose scores far above a pupil's sentence.
    plain = ["Please wait.", "Your teacher will let you in soon.", "Stay on this page."]
    hard = ["Participation necessitates comprehensive acknowledgement of institutional "
            "safeguarding responsibilities.",
            "Unauthorised dissemination constitutes a disciplinary contravention."]
    assert _grade(plain) <= PUPIL_GRADE < PARENT_GRADE < _grade(hard)
