"""Shared pieces of the live-lesson benchmarks: Chromium, the probe, figures, the table."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # scripts/bench.sh runs bench/<name>.py from the checkout
    sys.path.insert(0, str(ROOT))

from playwright.async_api import Browser, BrowserContext, Page, Playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.live_stack import FakeMedia  # noqa: E402

HERE = Path(__file__).resolve().parent
PROBE_JS = (HERE / "probe.js").read_text()
#: How long the subscriber's audio packet count must stay still to count as stopped.
QUIET_MS = 1000.0


@dataclass
class Figures:
    """Repeated measurements of one step, in milliseconds."""

    values: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def cell(self) -> str:
        if not self.values:
            return "not measured"
        return (f"{statistics.median(self.values):7.0f} {max(self.values):7.0f}"
                f"   (n={len(self.values)})")


async def launch(playwright: Playwright, media: FakeMedia) -> Browser:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run scripts/install.sh")
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, *media.chromium_args()])


async def new_page(browser: Browser, origin: str) -> tuple[BrowserContext, Page]:
    """A page in a fresh context (own cookies), camera and microphone allowed, probed."""
    context = await browser.new_context(base_url=origin, locale="en-GB",
                                        timezone_id="Europe/London")
    await context.grant_permissions(["camera", "microphone"], origin=origin)
    context.set_default_timeout(20_000)
    await context.add_init_script(PROBE_JS)
    return context, await context.new_page()


async def wait_for(page: Page, expression: str, timeout_s: float = 20.0) -> object:
    """Poll a JS expression in the page until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = await page.evaluate(expression)
        if value:
            return value
        await asyncio.sleep(0.02)
    raise TimeoutError(f"timed out waiting for {expression}")


async def first_frame_after(page: Page, started_ms: float, timeout_s: float = 20.0) -> float:
    """Milliseconds from started_ms to the page's first decoded inbound video frame."""
    frame = await wait_for(page, "window.__bench.firstVideoFrame", timeout_s)
    assert isinstance(frame, (int, float))
    return float(frame) - started_ms


async def audio_flowing(page: Page, timeout_s: float = 20.0) -> None:
    """Wait until some inbound audio stream on the page has had half a second of packets
    and is still growing."""
    await wait_for(page, """(() => { const t = window.__bench.now();
        return Object.values(window.__bench.audio).some(
            a => a.packets > 25 && t - a.lastIncrease < 200); })()""", timeout_s)


async def audio_stop_after(page: Page, mute: Callable[[], Awaitable[float]],
                           timeout_s: float = 10.0) -> tuple[float, float | None]:
    """Call ``mute()`` (it returns the probe-clock ms at which the mute was sent), wait
    until no inbound audio stream on the page has grown for QUIET_MS, and return

    - the time of the last growth seen by the 20 ms getStats poll minus the mute time
      (Chromium refreshes its stats about every 50 ms, so this is coarse), and
    - the last packet's own receive time (inbound-rtp lastPacketReceivedTimestamp, the
      same epoch-millisecond clock) minus the mute time, or None if Chromium gave none.
    """
    muted_at = await mute()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        quiet = await page.evaluate("""(quietMs) => { const t = window.__bench.now();
            const audio = Object.values(window.__bench.audio);
            const last = Math.max(0, ...audio.map(a => a.lastIncrease));
            const packet = Math.max(0, ...audio.map(a => a.lastPacket || 0));
            return t - last >= quietMs ? [last, packet] : null; }""", QUIET_MS)
        if quiet is not None:
            if os.environ.get("SAFECLASS_BENCH_TRACE"):
                trace = await page.evaluate("window.__bench.trace")
                print("mute sent at", muted_at, "(t, ssrc, packets, last packet) after it:",
                      [(round(t - muted_at), ssrc, n, lp and round(lp - muted_at))
                       for t, ssrc, n, lp in trace if t > muted_at - 100])
            last, packet = quiet
            return float(last) - muted_at, (float(packet) - muted_at) if packet else None
        await asyncio.sleep(0.05)
    raise TimeoutError("the subscriber's audio never stopped")


async def check_veth_only(page: Page, allowed: set[str]) -> None:
    """Fail unless every connection on the page uses an ICE pair between ``allowed``
    addresses (the two ends of the run's veth): no media on any other interface."""
    pairs = await page.evaluate("window.__bench.pairs()")
    stray = [pair for pair in pairs if not set(pair) <= allowed]
    if not pairs or stray:
        raise RuntimeError(f"media left the veth {sorted(allowed)}: selected pairs {pairs}")


@dataclass
class StepFigures:
    """The figures of both steps, for one way of doing them (direct or SafeClass)."""

    first_frame: Figures = field(default_factory=Figures)
    mute_poll: Figures = field(default_factory=Figures)
    mute_packet: Figures = field(default_factory=Figures)

    def add_mute(self, figures: tuple[float, float | None]) -> None:
        poll, packet = figures
        self.mute_poll.values.append(poll)
        if packet is not None:
            self.mute_packet.values.append(packet)


def print_table(rows: list[tuple[str, Figures, Figures]], reps: int) -> None:
    head = ("step", "direct Janus: median max (ms)", "SafeClass: median max (ms)")
    width = max(len(r[0]) for r in rows) + 2
    print()
    print(f"Live-lesson latency on this machine ({reps} repetitions per step)")
    print(f"{head[0]:<{width}}| {head[1]:<34}| {head[2]}")
    print("-" * width + "+" + "-" * 35 + "+" + "-" * 34)
    for step, direct, safeclass in rows:
        print(f"{step:<{width}}| {direct.cell():<34}| {safeclass.cell()}")
    for step, direct, safeclass in rows:
        for label, figures in (("direct", direct), ("SafeClass", safeclass)):
            if figures.values:
                values = ", ".join(f"{v:.0f}" for v in figures.values)
                print(f"  {step} ({label}), each run: {values}")
            for note in figures.notes:
                print(f"  {step} ({label}): {note}")
