"""Accessibility that axe-core does not check: names, contrast of controls, headings, titles
and language (WCAG 2.2 AA), on a representative set of staff pages and the parent's way in.

- **2.5.3 Label in name**: every visible link, button and labelled form control has an
  accessible name (Chromium's own, read through the DevTools protocol: this Chromium has
  no ``element.computedName``) that contains its visible text (or its label's), compared
  case-insensitively with whitespace and punctuation normalised.
- **1.4.11 Non-text contrast**: the border of every text field, select and text area, and
  the edge of every checkbox and radio button (native ones are drawn by the browser: read
  from a screenshot), contrasts at least 3:1 with the background behind it (transparent
  backgrounds are composited over the nearest opaque ancestor's). A button without
  visible text needs a boundary of 3:1 (one with text is identified by its text). The
  focus indicator: at every Tab stop of sign-in, request a lesson (with errors) and the
  consent page (with errors), some part that focus changed (outline, shadow ring or bar,
  or background) contrasts at least 3:1 with what is behind the element.
- **1.3.1 / 2.4.6 headings, 2.4.2 titles**: exactly one ``h1``; going down, no level is
  skipped (an ``h2`` then an ``h4``); the ``<title>`` says more than the site's name.
- **3.1.1 / 3.1.2 language**: ``<html lang>`` is the language the page is written in (its
  ``h1`` is the catalogue's translation, or at least not the English original, on a
  Welsh school's staff pages too), and the English | Cymraeg links on the join pages each
  carry ``lang`` and ``hreflang`` of the language they name.
- Found by the hand review (docs/accessibility.md), so checked here too: **2.4.4** links
  that read the same in the same context (an error summary's list item, a table cell) go
  to the same place; **3.2.4** a warning button (``.button-warning``) is red wherever it
  is, as a link or as a ``<button>``.

Run alone: ``.venv/bin/python -m pytest -p no:cacheprovider
tests/e2e/test_accessibility_names.py -q`` (about 35 s, most of it the app server).
"""

from __future__ import annotations

import json
import re
import struct
import unicodedata
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import translation
from playwright.sync_api import Browser, Page, expect

from tests.e2e import join_walk
from tests.e2e.conftest import AppServer

# Data, in the all-week school (tests/e2e/conftest.py), made at a fixed school-day hour
# (next week's Wednesday 10:00 London), then the approved lesson is moved to start now.
# The pending lesson is another teacher's, so the lead (an approver) may decide it.
_DATA = """
from datetime import timedelta
from zoneinfo import ZoneInfo
import dataclasses
import time_machine
from django.db import transaction
from django.utils import timezone
from safeclass.accounts.models import StaffRole, StaffUser
from safeclass.lessons.models import Lesson
from safeclass.lessons.services import LessonDraft, do_approve_lesson, do_request_lesson
from safeclass.schools.models import Group, Pupil, School
password = @PASSWORD@
school = School.objects.get(pk=@SCHOOL@)
with transaction.atomic():
    lead = StaffUser.objects.create_user(email="names-lead@allweek.example", password=password,
                                         full_name="Nia Names", school=school, is_active=True)
    for role in ("teacher", "approver", "slt", "dsl", "admin"):
        StaffRole.objects.create(user=lead, role=role)
    second = StaffUser.objects.create_user(email="names-second@allweek.example",
                                           password=password, full_name="Noel Names",
                                           school=school, is_active=True)
    StaffRole.objects.create(user=second, role="staff")
    group = Group.objects.create(school=school, name="Names class")
    for n, first in enumerate(["Ava", "Ben", "Cai"], start=1):
        Pupil.objects.create(school=school, group=group, reference=f"NAMES-{n}",
                             first_name=first, last_name="Names",
                             parent_name=f"Parent of {first}",
                             parent_email=f"{first.lower()}.names@parents.example")
london = timezone.now().astimezone(ZoneInfo("Europe/London"))
school_day = (london + timedelta(days=(2 - london.weekday()) % 7 + 7)).replace(
    hour=10, minute=0, second=0, microsecond=0)
teacher = StaffUser.objects.get(email=@TEACHER@)
with time_machine.travel(school_day, tick=False):
    draft = LessonDraft(title="Names live lesson", host=lead, second_staff=second,
                        group=group, pupils=(), starts_at=timezone.now() + timedelta(minutes=1),
                        duration_minutes=30, recorded=False)
    live = do_request_lesson(draft, actor=lead)
    links = do_approve_lesson(live, actor=StaffUser.objects.get(email=@APPROVER@))
    pending = do_request_lesson(dataclasses.replace(
        draft, title="Names pending lesson", host=teacher,
        second_staff=StaffUser.objects.get(email=@TA@),
        starts_at=timezone.now() + timedelta(hours=3)), actor=teacher)
Lesson.objects.filter(pk=live.pk).update(starts_at=timezone.now())
# A school whose language is Welsh: its staff's pages are all in Welsh.
with transaction.atomic():
    welsh = School.objects.create(name="Ysgol Enwau", staff_email_domains="names-cy.example",
                                  time_zone="Europe/London", language="cy")
    cymro = StaffUser.objects.create_user(email="athro@names-cy.example", password=password,
                                          full_name="Aled Enwau", school=welsh, is_active=True)
    StaffRole.objects.create(user=cymro, role="teacher")
result = {"live": live.pk, "pending": pending.pk, "lead": lead.email, "welsh": cymro.email,
          "links": {link.display_name.split()[0]: link.join_url for link in links}}
"""

# ------------------------------------------------------------------ in the page

# Shared by the scripts below: colours, compositing, contrast, what is visible.
_LIB = r"""
const parse = (text) => {
  const m = /rgba?\(([^)]+)\)/.exec(text || "");
  if (!m) { return {r: 0, g: 0, b: 0, a: 0}; }  // "transparent", "none"
  const p = m[1].split(/[\s,/]+/).filter(Boolean).map(parseFloat);
  return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
};
const over = (top, under) => {  // top composited over an opaque colour
  const a = top.a;
  return {r: top.r * a + under.r * (1 - a), g: top.g * a + under.g * (1 - a),
          b: top.b * a + under.b * (1 - a), a: 1};
};
// The opaque colour behind an element: its ancestors' backgrounds, composited from the
// nearest opaque one (or the white canvas) up.
const behind = (el) => {
  const layers = [];
  for (let n = el.parentElement; n; n = n.parentElement) {
    const c = parse(getComputedStyle(n).backgroundColor);
    if (c.a > 0) { layers.push(c); }
    if (c.a >= 1) { break; }
  }
  let colour = {r: 255, g: 255, b: 255, a: 1};
  for (const layer of layers.reverse()) { colour = over(layer, colour); }
  return colour;
};
const lum = (c) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
};
const contrast = (fg, bg) => {
  const c = over(fg, bg);
  const [hi, lo] = [lum(c), lum(bg)].sort((x, y) => y - x);
  return Math.round((hi + 0.05) / (lo + 0.05) * 100) / 100;
};
const hex = (c) => "#" + [c.r, c.g, c.b].map((v) => Math.round(v).toString(16).padStart(2, "0"))
  .join("") + (c.a < 1 ? "/" + c.a : "");
const describe = (el) => {
  let d = el.tagName.toLowerCase();
  if (el.id) { d += "#" + el.id; }
  else if (el.getAttribute("name")) { d += "[name=" + el.getAttribute("name") + "]"; }
  if (el.getAttribute("type")) { d += "[type=" + el.getAttribute("type") + "]"; }
  if (typeof el.className === "string" && el.className.trim()) {
    d += "." + el.className.trim().split(/\s+/).join(".");
  }
  return d;
};
const shown = (el) => el.checkVisibility({checkVisibilityCSS: true});
// Hidden from sight but not from screen readers (.visually-hidden: clipped to nothing).
const clipped = (el) => {
  const s = getComputedStyle(el);
  if (s.clipPath.startsWith("inset(50%")) { return true; }
  if (/^rect\(0(px)?,? 0(px)?,? 0(px)?,? 0(px)?\)$/.test(s.clip)) { return true; }
  const r = el.getBoundingClientRect();
  return s.overflow === "hidden" && r.width <= 1 && r.height <= 1;
};
// The text a sighted person sees in root (skipping the subtree `skip`).
const visibleText = (root, skip) => {
  let text = "";
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (skip && skip.contains(node)) { continue; }
    let seen = true;
    for (let e = node.parentElement; e && e !== root.parentElement; e = e.parentElement) {
      if (!shown(e) || clipped(e)) { seen = false; break; }
    }
    if (seen) { text += node.data; }
  }
  return text.replace(/\s+/g, " ").trim();
};
// Box shadows: [{colour, extent}], extent the most it reaches out (offset or spread).
const shadows = (value) => (value === "none" ? [] : value.split(/,(?![^(]*\))/).map((layer) => {
  const colour = parse(layer);
  const lengths = layer.replace(/rgba?\([^)]*\)/, "").match(/-?[\d.]+px/g) || [];
  const [x, y, , spread] = lengths.map(parseFloat).concat([0, 0, 0, 0]);
  return {colour, extent: Math.max(Math.abs(x), Math.abs(y)) + (spread || 0),
          inset: /inset/.test(layer)};
}));
"""

# Every visible link, button and labelled form control, with the text a person sees on it
# (a control: its labels' text). Kept in window.__names for the DevTools protocol to read
# each one's accessible name.
_NAMED = _LIB + r"""
const found = [];
const seen = new Set();
const selector = "a[href], button, input:not([type=hidden]), select, textarea, " +
                 "[role=button], [role=link], summary";
for (const el of document.querySelectorAll(selector)) {
  if (seen.has(el) || !shown(el)) { continue; }
  seen.add(el);
  let text;
  if (el.matches("input, select, textarea")) {
    if (el.matches("input[type=submit], input[type=button], input[type=reset]")) {
      text = el.value;
    } else {
      if (!el.labels || !el.labels.length) { continue; }  // not labelled: axe's job
      text = Array.from(el.labels).map((l) => visibleText(l, el)).join(" ");
    }
  } else {
    text = visibleText(el);
  }
  // A link's programmatically determined context (WCAG 2.4.4): its list item, cell,
  // paragraph or heading.
  const context = el.closest("li, td, th, dd, p, h1, h2, h3, h4, h5, h6");
  found.push({el, text: (text || "").replace(/\s+/g, " ").trim(), what: describe(el),
              href: el.matches("a[href]") ? el.href : null,
              context: context ? context.textContent.replace(/\s+/g, " ").trim() : ""});
}
window.__names = found.map((f) => f.el);
return found.map((f) => ({text: f.text, what: f.what, href: f.href, context: f.context}));
"""

# Borders of the form controls (and buttons with no visible text) against what is behind.
_BOUNDARIES = _LIB + r"""
const out = [];
const fields = "input[type=text], input[type=email], input[type=password], " +
  "input[type=number], input[type=date], input[type=time], input[type=datetime-local], " +
  "input[type=search], input[type=url], input[type=tel], input:not([type]), select, textarea";
for (const el of document.querySelectorAll(fields)) {
  if (!shown(el) || el.disabled || el.readOnly) { continue; }
  const s = getComputedStyle(el);
  const bg = behind(el);
  const sides = ["Top", "Right", "Bottom", "Left"]
    .filter((side) => s["border" + side + "Style"] !== "none"
                      && parseFloat(s["border" + side + "Width"]) > 0)
    .map((side) => contrast(parse(s["border" + side + "Color"]), bg));
  // No border: the field's own background is its boundary.
  const ratio = sides.length ? Math.min(...sides) : contrast(parse(s.backgroundColor), bg);
  out.push({kind: "field", what: describe(el), ratio, border: s.borderTopColor,
            background: hex(bg)});
}
for (const el of document.querySelectorAll("input[type=checkbox], input[type=radio]")) {
  if (!shown(el) || el.disabled) { continue; }
  const r = el.getBoundingClientRect();
  const bg = behind(el);
  out.push({kind: "box", what: describe(el), appearance: getComputedStyle(el).appearance,
            rect: {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height},
            background: [bg.r, bg.g, bg.b]});
}
for (const el of document.querySelectorAll("button, [role=button], input[type=submit]")) {
  if (!shown(el) || el.disabled || clipped(el)) { continue; }
  const text = el.matches("input") ? el.value : visibleText(el);
  if (text.trim()) { continue; }  // identified by its text (1.4.3, axe)
  const s = getComputedStyle(el);
  const bg = behind(el);
  const parts = [contrast(parse(s.backgroundColor), bg)];
  if (s.borderTopStyle !== "none" && parseFloat(s.borderTopWidth) > 0) {
    parts.push(contrast(parse(s.borderTopColor), bg));
  }
  for (const shadow of shadows(s.boxShadow)) {
    if (!shadow.inset && shadow.extent >= 1) { parts.push(contrast(shadow.colour, bg)); }
  }
  out.push({kind: "icon button", what: describe(el), ratio: Math.max(...parts),
            background: hex(bg)});
}
return out;
"""

# Each element's look before any has focus, to tell the focus indicator from how the
# element always looks.
_UNFOCUSED = r"""() => {
  if (document.activeElement) { document.activeElement.blur(); }
  window.__unfocused = new Map();
  for (const el of document.querySelectorAll("body *")) {
    const s = getComputedStyle(el);
    window.__unfocused.set(el, {outline: s.outlineStyle + s.outlineWidth + s.outlineColor,
                                shadow: s.boxShadow, background: s.backgroundColor});
  }
}"""

# The focused element's focus indicator: each part of it that focus changed (outline,
# box shadow, background) and its contrast with what is behind the element.
_FOCUS = _LIB + r"""
let el = document.activeElement;
if (!el || el === document.body || el === document.documentElement) { return null; }
const s = getComputedStyle(el);
const before = window.__unfocused.get(el) || {};
const bg = behind(el);
const parts = [];
if (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 1
    && parse(s.outlineColor).a > 0
    && before.outline !== s.outlineStyle + s.outlineWidth + s.outlineColor) {
  parts.push({part: "outline " + s.outlineWidth, colour: s.outlineColor,
              ratio: contrast(parse(s.outlineColor), bg)});
}
if (before.shadow !== s.boxShadow) {
  for (const shadow of shadows(s.boxShadow)) {
    if (shadow.extent >= 1 && shadow.colour.a > 0) {
      parts.push({part: "shadow " + shadow.extent + "px", colour: hex(shadow.colour),
                  ratio: contrast(shadow.colour, bg)});
    }
  }
}
const own = parse(s.backgroundColor);
if (own.a > 0 && before.background !== s.backgroundColor) {
  parts.push({part: "background", colour: s.backgroundColor, ratio: contrast(own, bg)});
}
return {what: describe(el), text: (el.innerText || el.value || "").trim().slice(0, 40),
        background: hex(bg), parts};
"""

# Warning buttons (.button-warning) and the red they should have (site.css --error).
_WARNINGS = r"""() => {
  const probe = document.createElement("span");
  probe.style.color = getComputedStyle(document.documentElement).getPropertyValue("--error");
  document.body.append(probe);
  const want = getComputedStyle(probe).color;
  probe.remove();
  return Array.from(document.querySelectorAll(".button-warning"))
    .filter((el) => el.checkVisibility({checkVisibilityCSS: true}) && !el.disabled
                    && el !== document.activeElement)
    .map((el) => ({what: el.tagName.toLowerCase() + "." + el.className.split(/\s+/).join("."),
                   text: el.textContent.replace(/\s+/g, " ").trim().slice(0, 40),
                   background: getComputedStyle(el).backgroundColor, want}));
}"""

# Headings that are rendered (screen readers list visually hidden ones too).
_HEADINGS = r"""() => Array.from(document.querySelectorAll(
    "h1, h2, h3, h4, h5, h6, [role=heading]"))
  .filter((h) => h.checkVisibility({checkVisibilityCSS: true}))
  .map((h) => ({level: h.getAttribute("aria-level") ? parseInt(h.getAttribute("aria-level"))
                       : parseInt(h.tagName.slice(1)) || 2,
                text: h.textContent.replace(/\s+/g, " ").trim()}))"""


def _script(body: str) -> str:
    return "() => {" + body + "}"


def normalised(text: str) -> str:
    """Lower case, punctuation and runs of spaces as one space (WCAG's understanding of
    2.5.3 lets punctuation and case differ)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


# ------------------------------------------------------------------ screenshots


def _png_pixels(png: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of a PNG as Chromium writes screenshots (8-bit RGB
    or RGBA, not interlaced): enough to read the colours of a native checkbox."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, data, width = 8, b"", 0
    height = colour_type = 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunk = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type, _c, _f, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and colour_type in (2, 6) and not interlace, (depth, colour_type)
        elif kind == b"IDAT":
            data += chunk
        pos += 12 + length
    step = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(data), width * step
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc
                                      else corner)) & 255
        rows.append(line)
        previous = line
    pixels = [(row[i], row[i + 1], row[i + 2]) for row in rows for i in range(0, stride, step)]
    return width, height, pixels


def _luminance(rgb: tuple[float, ...]) -> float:
    def channel(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else float(((v + 0.055) / 1.055) ** 2.4)
    return 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])


def contrast_ratio(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# ------------------------------------------------------------------ the checks


class Checks:
    """Runs the checks on a page as it is now and collects what fails, so that one run
    lists every page's problems."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.named = 0
        self.boxes = 0

    def __call__(self, page: Page, what: str) -> None:
        page.wait_for_load_state("load")
        where = f"{what} ({page.url})"
        self.label_in_name(page, where)
        self.headings_and_title(page, where)
        self.boundaries(page, where)
        self.warning_buttons(page, where)

    def label_in_name(self, page: Page, where: str) -> None:
        """2.5.3: the accessible name (Chromium's, via CDP) contains the visible text."""
        elements = page.evaluate(_script(_NAMED))
        cdp = page.context.new_cdp_session(page)
        destinations: dict[tuple[str, str], set[str]] = {}
        try:
            for index, element in enumerate(elements):
                if not element["text"] and not element["href"]:
                    continue  # no visible text (an icon): nothing to match
                handle = cdp.send("Runtime.evaluate",
                                  {"expression": f"window.__names[{index}]"})
                nodes = cdp.send("Accessibility.getPartialAXTree", {
                    "objectId": handle["result"]["objectId"], "fetchRelatives": False})["nodes"]
                name = str(nodes[0].get("name", {}).get("value", "")) if nodes else ""
                if element["href"]:
                    key = (normalised(name), normalised(element["context"]))
                    destinations.setdefault(key, set()).add(element["href"])
                if not element["text"]:
                    continue
                self.named += 1
                if f" {normalised(element['text'])} " not in f" {normalised(name)} ":
                    self.failures.append(
                        f"{where}: 2.5.3 label in name: {element['what']} shows "
                        f"“{element['text']}” but its accessible name is “{name}”")
        finally:
            cdp.detach()
        # 2.4.4: links that read the same, in the same context, go to the same place.
        for (name, context), hrefs in destinations.items():
            if len(hrefs) > 1:
                self.failures.append(
                    f"{where}: 2.4.4 link purpose: {len(hrefs)} links read “{name}” (context "
                    f"“{context[:60]}”) but go to different places: {sorted(hrefs)}")

    def headings_and_title(self, page: Page, where: str) -> None:
        """1.3.1 / 2.4.6: one h1, no level skipped going down; 2.4.2: a real title."""
        headings = page.evaluate(_HEADINGS)
        ones = [h["text"] for h in headings if h["level"] == 1]
        if len(ones) != 1:
            self.failures.append(f"{where}: 1.3.1 expected one h1, found {len(ones)}: {ones}")
        # An error summary's h2 may come before the h1 (the GOV.UK pattern): start at 1.
        previous = 1
        for heading in headings:
            if heading["level"] > previous + 1:
                self.failures.append(
                    f"{where}: 1.3.1 heading level skipped: h{previous} then "
                    f"h{heading['level']} “{heading['text']}”")
            previous = heading["level"]
        title = " ".join(page.title().split())
        topic = re.sub(r"\s*[–-]\s*SafeClass$", "", title).strip()
        if not topic or normalised(topic) == "safeclass":
            self.failures.append(f"{where}: 2.4.2 the title “{title}” names only the site")

    def boundaries(self, page: Page, where: str) -> None:
        """1.4.11: field borders, checkbox edges, and icon buttons' boundaries >= 3:1."""
        for item in page.evaluate(_script(_BOUNDARIES)):
            if item["kind"] == "box":
                ratio = self._box_edge(page, item)
                self.boxes += 1
            else:
                ratio = item["ratio"]
            if ratio < 3:
                self.failures.append(
                    f"{where}: 1.4.11 {item['kind']} {item['what']}: boundary contrast "
                    f"{ratio:.2f}:1 against {item['background']} (needs 3:1)")

    def warning_buttons(self, page: Page, where: str) -> None:
        """3.2.4: a button marked as a warning (cancel, decline, revoke) looks like one
        wherever it is: red (site.css --error), whether it is an <a> or a <button>."""
        for item in page.evaluate(_WARNINGS):
            if item["background"] != item["want"]:
                self.failures.append(
                    f"{where}: 3.2.4 {item['what']} “{item['text']}” is a warning button but "
                    f"its background is {item['background']}, not {item['want']} (--error)")

    @staticmethod
    def _box_edge(page: Page, item: dict[str, Any]) -> float:
        """A checkbox or radio button as drawn (a native one has no CSS border): the most
        contrasting pixel in its box, unticked, against the background behind it."""
        rect = item["rect"]
        png = page.screenshot(clip=rect, full_page=True, animations="disabled", caret="hide")
        _w, _h, pixels = _png_pixels(png)
        background = tuple(item["background"])
        best = max(contrast_ratio(pixel, background) for pixel in pixels)
        item["background"] = "#" + "".join(f"{round(v):02x}" for v in background)
        return best


def focus_indicators(page: Page, where: str, limit: int = 120) -> list[str]:
    """1.4.11 for focus: Tab from the top of the page to the end; at every stop some part
    of the focus indicator (outline, shadow ring or bar, or focus background) contrasts
    3:1 or more with the background behind the element. Returns what fails."""
    failures: list[str] = []
    page.evaluate(_UNFOCUSED)
    first = None
    stops = 0
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(_script(_FOCUS))
        if stop is None or (first and stop == first):
            break
        first = first or stop
        stops += 1
        if not any(part["ratio"] >= 3 for part in stop["parts"]):
            failures.append(f"{where}: 1.4.11 focus on {stop['what']} “{stop['text']}” "
                            f"contrasts under 3:1 with {stop['background']}: {stop['parts']}")
    assert stops >= 5, f"{where}: only {stops} Tab stops: the check proved nothing"
    return failures


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def names_data(app_server: AppServer) -> dict[str, Any]:
    school = app_server.all_week_school()
    made: dict[str, Any] = app_server.django(
        _DATA.replace("@PASSWORD@", json.dumps(app_server.demo_password))
        .replace("@SCHOOL@", str(int(school["school_id"])))
        .replace("@APPROVER@", json.dumps(school["head"]))
        .replace("@TEACHER@", json.dumps(school["teacher"]))
        .replace("@TA@", json.dumps(school["ta"])))
    return made



# ------------------------------------------------------------------ the tests


def test_staff_pages_names_contrast_headings_and_focus(
        app_server: AppServer, names_data: dict[str, Any], new_page: Callable[..., Page],
        sign_in: Callable[..., None]) -> None:
    check = Checks()
    page = new_page()
    page.goto("/account/login/")
    check(page, "sign in")
    focus_failures = focus_indicators(page, "sign in")

    sign_in(page, names_data["lead"])
    live, pending = names_data["live"], names_data["pending"]
    for url, what in [("/", "staff home"), ("/lessons/", "my lessons"),
                      (f"/lessons/{live}/", "a lesson (approved, its pupils' links)"),
                      (f"/lessons/{pending}/", "a lesson waiting for the lead's approval"),
                      ("/lessons/approvals/", "approvals"),
                      ("/oversight/register/", "register"), ("/oversight/audit/", "audit log"),
                      ("/school/policy/", "policy"), ("/school/roster/", "roster"),
                      ("/school/settings/", "school settings")]:
        page.goto(url)
        check(page, what)

    page.goto("/lessons/request/")
    page.locator("main form[method=post] button[type=submit]").last.click()
    expect(page.locator("#error-summary")).to_be_visible()
    check(page, "request a lesson, sent empty")
    focus_failures += focus_indicators(page, "request a lesson, sent empty")

    assert not check.failures + focus_failures, "\n".join(check.failures + focus_failures)
    # The checks really looked at things.
    assert check.named >= 100, check.named
    assert check.boxes >= 3, check.boxes


def test_the_parents_way_in_names_contrast_headings_and_focus(
        names_data: dict[str, Any], new_page: Callable[..., Page],
        media_browser: Browser) -> None:
    check = Checks()
    page = new_page(media_browser)
    join_walk.to_consent_errors(page, names_data["links"]["Ava"], check,
                                rules_without_promise=True)
    focus_failures = focus_indicators(page, "consent, nothing filled in")
    join_walk.to_waiting_room(page, check, "Pat Parent")

    assert not check.failures + focus_failures, "\n".join(check.failures + focus_failures)
    assert check.named >= 15, check.named
    assert check.boxes >= 3, check.boxes


def _expected_h1(language: str, text: str) -> str:
    with translation.override(language):
        return str(translation.gettext(text))


def test_language_of_the_join_pages_and_the_switch(
        names_data: dict[str, Any], new_page: Callable[..., Page],
        sign_in: Callable[..., None]) -> None:
    """3.1.1: <html lang> is the language of the page; 3.1.2: each language link is marked
    up in the language it names, in English and in Welsh. Also label in name in Welsh; and
    a Welsh school's staff pages, allauth's among them, are in Welsh, as they say."""
    check = Checks()
    page = new_page()
    page.goto(names_data["links"]["Ben"])
    page.wait_for_url(re.compile(r"/join/lesson/[^/]+/$"))
    status = page.url
    for language, other in (("en-gb", "cy"), ("cy", "en-gb")):
        if language == "cy":
            page.locator(".language-switch a[hreflang=cy]").click()
            page.wait_for_url(status)
        expect(page.locator("html")).to_have_attribute("lang", language)
        links = page.locator(".language-switch a")
        expect(links).to_have_count(2)
        for code, name in (("en-gb", "English"), ("cy", "Cymraeg")):
            link = page.locator(f".language-switch a[hreflang={code}]")
            expect(link).to_have_text(name)
            expect(link).to_have_attribute("lang", code)
        expect(page.locator(f".language-switch a[hreflang={other}]")).not_to_have_attribute(
            "aria-current", "true")
        expect(page.locator(f".language-switch a[hreflang={language}]")).to_have_attribute(
            "aria-current", "true")
        check(page, f"the link's status page in {language}")

        page.goto(status + "check/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("h1")).to_have_text(
            _expected_h1(language, "Check your camera and microphone"))
        if language == "cy":  # the catalogue really has it in Welsh
            expect(page.locator("h1")).not_to_have_text("Check your camera and microphone")
        check(page, f"camera check in {language}")
        page.goto(status)

    # A Welsh school's staff: every page says lang="cy", so its heading must not be the
    # English original (allauth's pages included: SafeClass's own templates word them, as
    # allauth has no Welsh; allauth's "Change Password", "Confirm Access" and "Two-Factor
    # Authentication" must not come back either).
    page = new_page()
    sign_in(page, names_data["welsh"])
    for url, english in [("/", "Hello, Aled Enwau"), ("/lessons/request/", "Request a lesson"),
                         ("/account/security/", "Your account"),
                         ("/account/password/change/", "Change your password"),
                         ("/account/reauthenticate/", "Enter your password again"),
                         ("/account/2fa/", "Two-step sign-in")]:
        page.goto(url)
        lang = page.evaluate("() => document.documentElement.lang")
        h1 = " ".join(page.locator("h1").inner_text().split())
        if lang != "cy" or h1 == english:
            check.failures.append(f"{url} (a Welsh school's staff): 3.1.1 the page says "
                                  f"lang=“{lang}” but its h1 is “{h1}” (English: “{english}”)")

    assert not check.failures, "\n".join(check.failures)
