"""Parse what Janus' HTTP event handler (janus.eventhandler.sampleevh) posts.

With ``grouping = true`` each POST carries a JSON array of events; without it,
a single object. Every event has a numeric ``type``:

====  ==========================================================
 1    session (created, destroyed, timeout)
 2    handle (attached, detached; ``token`` is the core token used)
 4    external (sent through the admin API)
 8    JSEP (offer/answer)
 16   WebRTC state (ICE, candidates, selected pair, DTLS, webrtcup/hangup)
 32   media (receiving or not, slow link, statistics)
 64   plugin (VideoRoom: created, joined, configured, published, unpublished,
      leaving, kicked, moderated, destroyed, ...)
 128  transport
 256  core (started, shutdown)
====  ==========================================================

This module is pure: no I/O, no Django. It never raises on a well-formed JSON
value; anything it does not recognise becomes an :class:`UnknownEvent`, so a
newer Janus cannot break the lesson state. Events carry participants' tokens:
do not log them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

SESSION = 1
HANDLE = 2
EXTERNAL = 4
JSEP = 8
WEBRTC = 16
MEDIA = 32
PLUGIN = 64
TRANSPORT = 128
CORE = 256

_WEBRTC_SUBTYPES = {
    1: "ice",
    2: "local-candidate",
    3: "remote-candidate",
    4: "selected-pair",
    5: "dtls",
    6: "connection",
}


@dataclass(frozen=True)
class SessionEvent:
    session_id: int | None
    name: str  # created | destroyed | timeout | ...
    timestamp: int | None = None


@dataclass(frozen=True)
class HandleEvent:
    session_id: int | None
    handle_id: int | None
    name: str  # attached | detached
    plugin: str | None
    token: str | None = None
    opaque_id: str | None = None
    timestamp: int | None = None


@dataclass(frozen=True)
class PluginEvent:
    """A VideoRoom event about a room or a participant in it."""

    event: str  # joined | configured | published | unpublished | leaving | kicked | moderated | ...
    room: str | None
    participant_id: str | None = None
    display: str | None = None
    token: str | None = None
    mid: str | None = None
    muted: bool | None = None
    session_id: int | None = None
    handle_id: int | None = None
    plugin: str = "janus.plugin.videoroom"
    timestamp: int | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class WebRTCEvent:
    session_id: int | None
    handle_id: int | None
    kind: str  # ice | local-candidate | remote-candidate | selected-pair | dtls | connection
    state: str | None  # e.g. "connected", "webrtcup", "hangup"
    reason: str | None = None
    timestamp: int | None = None


@dataclass(frozen=True)
class MediaEvent:
    session_id: int | None
    handle_id: int | None
    media: str | None  # audio | video
    mid: str | None
    receiving: bool | None  # None when the event is not about reception
    kind: str = "receiving"  # receiving | slow_link | stats | other
    timestamp: int | None = None


@dataclass(frozen=True)
class CoreEvent:
    status: str | None  # started | shutdown
    timestamp: int | None = None


@dataclass(frozen=True)
class UnknownEvent:
    type: int | None
    raw: Any = field(compare=False, repr=False)


JanusEvent = (
    SessionEvent | HandleEvent | PluginEvent | WebRTCEvent | MediaEvent | CoreEvent | UnknownEvent
)


def parse_batch(payload: bytes | str | list[Any] | dict[str, Any]) -> list[JanusEvent]:
    """Parse one POST body (bytes or str are decoded as JSON; ValueError if not JSON)."""
    if isinstance(payload, bytes | str):
        payload = json.loads(payload)
    items = payload if isinstance(payload, list) else [payload]
    return [parse_event(item) for item in items]


@dataclass(frozen=True)
class _Envelope:
    """What every event has around its own body: the ids and time it is about."""

    item: dict[str, Any]
    body: dict[str, Any]
    session_id: int | None
    handle_id: int | None
    timestamp: int | None


def parse_event(item: Any) -> JanusEvent:
    if not isinstance(item, dict):
        return UnknownEvent(None, item)
    kind = item.get("type")
    body = item.get("event")
    if not isinstance(kind, int) or isinstance(kind, bool) or not isinstance(body, dict):
        return UnknownEvent(kind if isinstance(kind, int) else None, item)
    env = _Envelope(item, body, _int(item.get("session_id")), _int(item.get("handle_id")),
                    _int(item.get("timestamp")))
    if kind == SESSION:
        return SessionEvent(env.session_id, _str(body.get("name")) or "", env.timestamp)
    if kind == HANDLE:
        return HandleEvent(
            env.session_id,
            env.handle_id,
            _str(body.get("name")) or "",
            _str(body.get("plugin")),
            token=_str(body.get("token")),
            opaque_id=_str(item.get("opaque_id") or body.get("opaque_id")),
            timestamp=env.timestamp,
        )
    if kind == PLUGIN:
        return _plugin_event(env)
    if kind == WEBRTC:
        return _webrtc_event(env)
    if kind == MEDIA:
        return _media_event(env)
    if kind == CORE:
        return CoreEvent(_str(body.get("status")), env.timestamp)
    return UnknownEvent(kind, item)


def _plugin_event(env: _Envelope) -> JanusEvent:
    data = env.body.get("data")
    plugin = _str(env.body.get("plugin"))
    if not isinstance(data, dict) or plugin is None:
        return UnknownEvent(PLUGIN, env.item)
    # Most VideoRoom events say {"event": name}; moderation says {"videoroom": "moderated"}.
    name = _str(data.get("event")) or _str(data.get("videoroom"))
    if name is None:
        return UnknownEvent(PLUGIN, env.item)
    moderation = _str(data.get("moderation"))
    return PluginEvent(
        event=name,
        room=_str(data.get("room")),
        participant_id=_str(data.get("id")),
        display=_str(data.get("display")),
        token=_str(data.get("token")),
        mid=_str(data.get("mid")),
        muted={"muted": True, "unmuted": False}.get(moderation or ""),
        session_id=env.session_id,
        handle_id=env.handle_id,
        plugin=plugin,
        timestamp=env.timestamp,
        data=data,
    )


def _webrtc_event(env: _Envelope) -> JanusEvent:
    body = env.body
    subtype = _int(env.item.get("subtype"))
    kind = _WEBRTC_SUBTYPES.get(subtype) if subtype is not None else None
    if kind is None:
        # Older Janus versions had no subtype: guess from the keys.
        kind = next((k for k in ("connection", "dtls", "ice", "selected-pair") if k in body), None)
    if kind is None:
        return UnknownEvent(WEBRTC, env.item)
    value = body.get(kind)
    return WebRTCEvent(
        env.session_id,
        env.handle_id,
        kind,
        _str(value) if not isinstance(value, dict) else None,
        reason=_str(body.get("reason")),
        timestamp=env.timestamp,
    )


def _media_event(env: _Envelope) -> MediaEvent:
    body = env.body
    receiving = body.get("receiving")
    if isinstance(receiving, bool):
        kind = "receiving"
    elif "slow_link" in body:
        kind = "slow_link"
    elif any(key in body for key in ("base", "rtt", "packets-received", "lost")):
        kind = "stats"
    else:
        kind = "other"
    return MediaEvent(
        env.session_id,
        env.handle_id,
        media=_str(body.get("media")),
        mid=_str(body.get("mid")),
        receiving=receiving if isinstance(receiving, bool) else None,
        kind=kind,
        timestamp=env.timestamp,
    )


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
