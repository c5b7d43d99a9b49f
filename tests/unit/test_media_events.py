"""The Janus event parser, on batches shaped like those Janus 1.1.2 really posts."""

from __future__ import annotations

import json

import pytest

from safeclass.media.events import (
    CoreEvent,
    HandleEvent,
    MediaEvent,
    PluginEvent,
    SessionEvent,
    UnknownEvent,
    WebRTCEvent,
    parse_batch,
    parse_event,
)

ROOM = "de05a238a953b4ced41288c6ddc2f562"
ALICE = "a7363cdd-afbc-4a57-9b2d-9a643854268b"
BOB = "fc6d465d-9793-48b0-8e1f-46e57b436d88"

# Captured from Janus 1.1.2 with the project's config (tokens replaced).
BATCH = [
    {
        "emitter": "safeclass",
        "type": 256,
        "subtype": 1,
        "timestamp": 1795880158639879,
        "event": {"status": "started", "info": {"janus": "server_info"}},
    },
    {
        "emitter": "safeclass",
        "type": 1,
        "timestamp": 1795880158653149,
        "session_id": 495485291922956,
        "event": {"name": "created", "transport": {"transport": "janus.transport.http"}},
    },
    {
        "emitter": "safeclass",
        "type": 2,
        "timestamp": 1795880158654795,
        "session_id": 495485291922956,
        "handle_id": 1735505241829161,
        "event": {"name": "attached", "plugin": "janus.plugin.videoroom", "token": "tok-alice"},
    },
    {
        "emitter": "safeclass",
        "type": 16,
        "subtype": 1,
        "timestamp": 1795880158656513,
        "session_id": 495485291922956,
        "handle_id": 1735505241829161,
        "event": {"ice": "gathering", "stream_id": 1, "component_id": 1},
    },
    {
        "emitter": "safeclass",
        "type": 64,
        "timestamp": 1795880158656868,
        "session_id": 495485291922956,
        "handle_id": 1735505241829161,
        "event": {
            "plugin": "janus.plugin.videoroom",
            "data": {
                "event": "joined",
                "room": ROOM,
                "id": ALICE,
                "private_id": 1886132857,
                "token": "tok-alice",
                "display": "Alice",
            },
        },
    },
    {
        "emitter": "safeclass",
        "type": 64,
        "timestamp": 1795880158661730,
        "event": {
            "plugin": "janus.plugin.videoroom",
            "data": {
                "videoroom": "moderated",
                "room": ROOM,
                "id": ALICE,
                "mid": "0",
                "moderation": "muted",
            },
        },
    },
    {
        "emitter": "safeclass",
        "type": 64,
        "timestamp": 1795880158663002,
        "event": {
            "plugin": "janus.plugin.videoroom",
            "data": {"event": "leaving", "room": ROOM, "id": BOB},
        },
    },
    {
        "emitter": "safeclass",
        "type": 64,
        "timestamp": 1795880158663740,
        "event": {
            "plugin": "janus.plugin.videoroom",
            "data": {"event": "kicked", "room": ROOM, "id": ALICE},
        },
    },
    {
        "emitter": "safeclass",
        "type": 16,
        "subtype": 6,
        "timestamp": 1795880158986658,
        "session_id": 495485291922956,
        "handle_id": 1735505241829161,
        "event": {"connection": "hangup", "reason": "Close PC"},
    },
    {
        "emitter": "safeclass",
        "type": 32,
        "timestamp": 1795880158986700,
        "session_id": 495485291922956,
        "handle_id": 1735505241829161,
        "event": {"mid": "0", "media": "audio", "receiving": False},
    },
    {
        "emitter": "safeclass",
        "type": 1,
        "timestamp": 1795880159669148,
        "session_id": 495485291922956,
        "event": {"name": "destroyed"},
    },
]


def test_batch_parses_every_event_in_order() -> None:
    events = parse_batch(json.dumps(BATCH))
    assert [type(e) for e in events] == [
        CoreEvent,
        SessionEvent,
        HandleEvent,
        WebRTCEvent,
        PluginEvent,
        PluginEvent,
        PluginEvent,
        PluginEvent,
        WebRTCEvent,
        MediaEvent,
        SessionEvent,
    ]


def test_joined_carries_participant_token_and_display() -> None:
    joined = parse_event(BATCH[4])
    assert joined == PluginEvent(
        event="joined",
        room=ROOM,
        participant_id=ALICE,
        display="Alice",
        token="tok-alice",
        session_id=495485291922956,
        handle_id=1735505241829161,
        timestamp=1795880158656868,
    )


def test_moderation_leaving_and_kick() -> None:
    moderated, leaving, kicked = (parse_event(BATCH[i]) for i in (5, 6, 7))
    assert isinstance(moderated, PluginEvent)
    assert (moderated.event, moderated.participant_id, moderated.mid, moderated.muted) == (
        "moderated",
        ALICE,
        "0",
        True,
    )
    assert isinstance(leaving, PluginEvent)
    assert (leaving.event, leaving.room, leaving.participant_id) == ("leaving", ROOM, BOB)
    assert isinstance(kicked, PluginEvent)
    assert (kicked.event, kicked.participant_id, kicked.session_id) == ("kicked", ALICE, None)


def test_session_handle_webrtc_media_core() -> None:
    assert parse_event(BATCH[1]) == SessionEvent(495485291922956, "created", 1795880158653149)
    handle = parse_event(BATCH[2])
    assert isinstance(handle, HandleEvent)
    assert (handle.name, handle.plugin, handle.token) == (
        "attached",
        "janus.plugin.videoroom",
        "tok-alice",
    )
    hangup = parse_event(BATCH[8])
    assert isinstance(hangup, WebRTCEvent)
    assert (hangup.kind, hangup.state, hangup.reason) == ("connection", "hangup", "Close PC")
    media = parse_event(BATCH[9])
    assert isinstance(media, MediaEvent)
    assert (media.kind, media.media, media.mid, media.receiving) == (
        "receiving",
        "audio",
        "0",
        False,
    )
    core = parse_event(BATCH[0])
    assert core == CoreEvent("started", 1795880158639879)


def test_single_object_without_grouping() -> None:
    events = parse_batch(BATCH[6])
    assert len(events) == 1
    assert isinstance(events[0], PluginEvent)


def test_bytes_payload() -> None:
    assert len(parse_batch(json.dumps(BATCH).encode())) == len(BATCH)


def test_webrtc_without_subtype_guesses_from_keys() -> None:
    event = parse_event({"type": 16, "event": {"connection": "webrtcup"}})
    assert isinstance(event, WebRTCEvent)
    assert (event.kind, event.state) == ("connection", "webrtcup")


def test_media_stats_and_slow_link() -> None:
    stats = parse_event({"type": 32, "event": {"mid": "1", "media": "video", "base": 90000}})
    slow = parse_event({"type": 32, "event": {"media": "video", "slow_link": "uplink"}})
    assert isinstance(stats, MediaEvent) and stats.kind == "stats"
    assert isinstance(slow, MediaEvent) and slow.kind == "slow_link"


@pytest.mark.parametrize(
    "item",
    [
        None,
        42,
        "text",
        [],
        {},
        {"type": "64", "event": {}},
        {"type": True, "event": {}},
        {"type": 64},
        {"type": 64, "event": "x"},
        {"type": 64, "event": {"plugin": "janus.plugin.videoroom"}},
        {"type": 64, "event": {"plugin": "janus.plugin.videoroom", "data": {"room": "r"}}},
        {"type": 64, "event": {"data": {"event": "joined"}}},
        {"type": 16, "subtype": 99, "event": {"weird": 1}},
        {"type": 8, "event": {"owner": "local", "jsep": {"type": "answer"}}},
        {"type": 128, "event": {"transport": "janus.transport.http"}},
        {"type": 4, "event": {"schema": "x", "data": {}}},
        {"type": 9999, "event": {}},
    ],
)
def test_unknown_or_malformed_events_do_not_raise(item: object) -> None:
    assert isinstance(parse_event(item), UnknownEvent)


def test_odd_field_types_are_tolerated() -> None:
    event = parse_event(
        {
            "type": 64,
            "session_id": "12",
            "handle_id": True,
            "event": {
                "plugin": "janus.plugin.videoroom",
                "data": {"event": "joined", "room": 1234, "id": ["x"], "display": None},
            },
        }
    )
    assert isinstance(event, PluginEvent)
    assert (event.room, event.participant_id, event.display) == ("1234", None, None)
    assert (event.session_id, event.handle_id) == (12, None)


def test_invalid_json_raises_value_error() -> None:
    with pytest.raises(ValueError):
        parse_batch(b"{not json")
