"""Helpers for bench/live_latency.py (not benchmarks themselves: scripts/bench.sh runs
only bench/*.py)."""
