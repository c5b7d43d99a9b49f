"""Which Janus serves the live lessons, built from settings.

One :class:`JanusMediaServer` per event loop: its aiohttp client and its Janus session
belong to the loop that made them, so an ASGI process (one loop) shares one, and each
test's ``asyncio.run`` gets its own. The adapter needs no keepalive: when its Janus
session timed out (idle longer than Janus' ``session_timeout``, 60 s) or Janus restarted,
Janus answers 458/459 and the adapter retries once on a fresh session.

The secrets come from ``JANUS_SECRETS_FILE`` (written by ``python -m
safeclass.media.process``); they are read when first needed, never at import time.
"""

from __future__ import annotations

import asyncio
import json
import os
import weakref
from pathlib import Path
from typing import Any

from django.conf import settings

from .adapter import JanusMediaServer
from .janus_config import RECORDING_OFF_MARKER

_servers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop,
                                    tuple[tuple[str, ...], JanusMediaServer]] = (
    weakref.WeakKeyDictionary())


def _secrets() -> dict[str, Any]:
    with open(settings.JANUS_SECRETS_FILE, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{settings.JANUS_SECRETS_FILE} does not hold a JSON object")
    return data


def event_password() -> str:
    """The password Janus' event handler signs in with (HTTP basic auth)."""
    return str(_secrets()["event_password"])


def idle_record_dir() -> str:
    """Where rooms point while not recording: under a regular file, as JanusConfig does."""
    return str(Path(os.path.abspath(settings.JANUS_RECORD_DIR)) / RECORDING_OFF_MARKER / "none")


def media_server() -> JanusMediaServer:
    """The media server for the running event loop (made on first use)."""
    loop = asyncio.get_running_loop()
    s = _secrets()
    key = (str(settings.JANUS_API_URL), str(settings.JANUS_ADMIN_URL), str(s["api_secret"]),
           str(s["admin_secret"]), str(s["videoroom_admin_key"]), idle_record_dir())
    cached = _servers.get(loop)
    if cached is not None and cached[0] == key:
        return cached[1]
    # Settings changed (tests point at a new Janus): start afresh. The old client is left
    # to close with its loop rather than awaited here.
    server = JanusMediaServer(key[0], key[1], api_secret=key[2], admin_secret=key[3],
                              admin_key=key[4], idle_record_dir=key[5])
    _servers[loop] = (key, server)
    return server
