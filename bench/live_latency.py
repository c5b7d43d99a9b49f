"""Live lesson latency: admission to first frame, and mute to silence.

Measures on this machine, over a few repetitions each:

(a) from a pupil's admission to the first decoded frame of the teacher's video on the
    pupil's page, and
(b) from the host's "mute" to the pupil's audio stopping at a subscriber (the time of the
    last increase of the subscriber's inbound audio packet count, polled every 20 ms,
    minus the time the mute was sent),

once directly against Janus (a bare janus.js page, no SafeClass) and once through SafeClass
(the app, its WebSocket and its room pages), and prints both side by side. All traffic
stays on 127.0.0.1 and a veth pair into a network namespace made for the run. Needs root,
janus, ffmpeg and Debian's Chromium. See bench/README.md.

    .venv/bin/python bench/live_latency.py [--reps 5] [--only direct|safeclass]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.async_api import async_playwright

from bench.support.common import StepFigures, launch, print_table
from tests.e2e.live_stack import make_fake_media

#: The whole run stops after this many seconds (the benchmark must stay under 3 minutes).
BUDGET_SECONDS = 170


async def main(reps: int, only: str | None) -> int:
    from bench.support.direct import run_direct
    from bench.support.through_safeclass import run_safeclass

    direct, safeclass = StepFigures(), StepFigures()
    failed = False
    with tempfile.TemporaryDirectory(prefix="sc-bench-media-") as tmp:
        media = make_fake_media(Path(tmp))
        async with async_playwright() as playwright:
            browser = await launch(playwright, media)
            try:
                if only in (None, "direct"):
                    started = time.monotonic()
                    try:
                        await run_direct(browser, reps, direct)
                    except Exception as exc:
                        failed = True
                        traceback.print_exc()
                        direct.first_frame.notes.append(f"stopped: {exc!r}"[:300])
                    print(f"direct Janus part: {time.monotonic() - started:.0f}s")
                if only in (None, "safeclass"):
                    started = time.monotonic()
                    try:
                        await run_safeclass(browser, reps, safeclass)
                    except Exception as exc:
                        failed = True
                        traceback.print_exc()
                        safeclass.first_frame.notes.append(f"stopped: {exc!r}"[:300])
                    print(f"SafeClass part: {time.monotonic() - started:.0f}s")
            finally:
                await browser.close()
    print_table([
        ("admission to first frame", direct.first_frame, safeclass.first_frame),
        ("mute to audio stopped (20 ms poll)", direct.mute_poll, safeclass.mute_poll),
        ("mute to last audio packet", direct.mute_packet, safeclass.mute_packet),
    ], reps)
    return 1 if failed else 0


def _run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions per step (5)")
    parser.add_argument("--only", choices=["direct", "safeclass"], help="run one part only")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("live_latency: needs root (ip netns) to run Janus in a network namespace")
        return 1
    try:
        return asyncio.run(asyncio.wait_for(main(args.reps, args.only), BUDGET_SECONDS))
    except TimeoutError:
        print(f"live_latency: stopped after the {BUDGET_SECONDS}s budget", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(_run())
