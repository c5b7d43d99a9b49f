"""The media adapter against a real Janus 1.1.2 (Debian), configured from our templates.

Janus runs in a network namespace of its own (see janus_harness). Participants
are played by a raw Janus API client, as a browser or a hostile client would be;
a publisher "join" needs no SDP, and a fake SDP offer is enough to give a
publisher streams (mids) without any media flowing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from safeclass.media import errors
from safeclass.media.adapter import (
    JanusMediaServer,
    MediaServer,
    new_participant_token,
    new_room_id,
    new_room_secret,
    remove_participant,
)
from safeclass.media.events import PluginEvent, parse_event
from tests.integration.janus_harness import (
    JanusInstance,
    RawJanusClient,
    fake_publisher_offer,
    janus_fixture,
)

pytestmark = pytest.mark.janus

janus = janus_fixture(scope="module")

T = TypeVar("T")
Scenario = Callable[[JanusMediaServer, RawJanusClient], Awaitable[T]]


def run(instance: JanusInstance, scenario: Scenario[T]) -> T:
    async def main() -> T:
        async with instance.media_server() as media, instance.raw_client() as raw:
            return await scenario(media, raw)

    return asyncio.run(main())


async def new_room(media: JanusMediaServer, *tokens: str) -> tuple[str, str]:
    room, secret = new_room_id(), new_room_secret()
    await media.create_room(
        room, secret=secret, description="Year 5 maths", publishers=6, allowed=list(tokens)
    )
    return room, secret


async def new_pupil(media: JanusMediaServer) -> str:
    token = new_participant_token()
    await media.add_token(token)
    return token


def videoroom_data(reply: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = reply["plugindata"]["data"]
    return data


# --------------------------------------------------------------------- basics


def test_health_and_only_what_we_use_is_loaded(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> dict[str, Any]:
        assert isinstance(media, MediaServer)
        health = await media.health()
        assert health.ok
        assert health.version == "1.1.2"
        async with raw._http.get(f"{janus.http_url}/info") as response:
            info: dict[str, Any] = await response.json(content_type=None)
        return info

    info = run(janus, scenario)
    assert set(info["plugins"]) == {"janus.plugin.videoroom"}
    assert set(info["transports"]) == {"janus.transport.http"}
    assert set(info["events"]) == {"janus.eventhandler.sampleevh"}
    assert not info.get("loggers")
    assert info["auth_token"] is True
    assert info["api_secret"] is True
    assert "dependencies" not in info  # hide_dependencies


def test_health_reports_a_wrong_admin_secret(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        wrong = JanusMediaServer(
            janus.http_url,
            janus.admin_url,
            api_secret=janus.api_secret,
            admin_secret="not-the-admin-secret",
            admin_key=janus.admin_key,
            idle_record_dir=janus.config.idle_record_dir,
        )
        async with wrong:
            health = await wrong.health()
            assert not health.admin_ok and not health.ok
            with pytest.raises(errors.Unauthorized):
                await wrong.add_token(new_participant_token())

    run(janus, scenario)


def test_unreachable_janus_raises_unavailable() -> None:
    async def main() -> None:
        media = JanusMediaServer(
            "http://127.0.0.1:9/janus",
            "http://127.0.0.1:9/admin",
            api_secret="x" * 20,
            admin_secret="x" * 20,
            admin_key="x" * 20,
            idle_record_dir="/nonexistent/none",
            timeout=1,
        )
        async with media:
            with pytest.raises(errors.JanusUnavailable):
                await media.exists(new_room_id())

    asyncio.run(main())


# ---------------------------------------------------------------- room ids


def test_room_ids_are_128_bit_strings(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        room, secret = await new_room(media)
        assert re.fullmatch(r"[0-9a-f]{32}", room)
        assert await media.exists(room)
        assert not await media.exists(new_room_id())
        info = await media.room_info(room)
        assert info["room"] == room  # string_ids: the id comes back as the same string
        assert info["is_private"] and info["lock_record"] and info["require_pvtid"]
        assert info["notify_joining"]
        with pytest.raises(errors.RoomExists):
            await media.create_room(
                room, secret=secret, description="again", publishers=6, allowed=[]
            )
        with pytest.raises(errors.InvalidRequest):
            await media.create_room(
                "1234", secret=secret, description="x", publishers=6, allowed=[]
            )
        await media.destroy_room(room, secret)

    run(janus, scenario)
    assert len({new_room_id() for _ in range(1000)}) == 1000


def test_only_our_admin_key_creates_rooms(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        # Even a client holding our api secret needs the admin key.
        session = await raw.session(apisecret=janus.api_secret)
        handle = (await raw.attach(session, apisecret=janus.api_secret))["data"]["id"]
        room = new_room_id()
        for extra, code in (({}, 429), ({"admin_key": "guess"}, 433)):
            body = {"request": "create", "room": room, **extra}
            reply = await raw.request(
                f"/{session}/{handle}",
                {"janus": "message", "body": body},
                apisecret=janus.api_secret,
            )
            assert videoroom_data(reply)["error_code"] == code
        # ... and so does a pupil with a valid core token.
        token = await new_pupil(media)
        session = await raw.session(token=token)
        handle = (await raw.attach(session, token=token))["data"]["id"]
        reply = await raw.request(
            f"/{session}/{handle}",
            {"janus": "message", "body": {"request": "create", "room": room}},
            token=token,
        )
        assert videoroom_data(reply)["error_code"] == 429
        assert not await media.exists(room)

    run(janus, scenario)


# ------------------------------------------------------------ core tokens


def test_core_token_auth(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        # No credentials, or an unknown token: refused.
        for auth in ({}, {"token": new_participant_token()}, {"apisecret": "guess"}):
            reply = await raw.request("", {"janus": "create"}, **auth)
            assert reply["error"]["code"] == 403, auth
        token = await new_pupil(media)
        session = await raw.session(token=token)
        attached = await raw.attach(session, token=token)
        assert attached["janus"] == "success"
        # Every other plugin is disabled, so there is nothing else to attach to.
        other = await raw.attach(session, "janus.plugin.echotest", token=token)
        assert other["error"]["code"] == 460
        # A request on that session without the token is refused.
        reply = await raw.request(f"/{session}", {"janus": "keepalive"})
        assert reply["error"]["code"] == 403
        # Revoked: the existing session and new sessions are refused.
        await media.remove_token(token)
        reply = await raw.request(f"/{session}", {"janus": "keepalive"}, token=token)
        assert reply["error"]["code"] == 403
        assert (await raw.request("", {"janus": "create"}, token=token))["error"]["code"] == 403
        with pytest.raises(errors.TokenNotFound):
            await media.remove_token(token)

    run(janus, scenario)


def test_token_is_limited_to_the_plugins_it_was_granted(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        # A token granted only a plugin that is not loaded gets no plugin at all,
        # and so cannot attach to the VideoRoom: the per-plugin check is live.
        token = new_participant_token()
        reply = await raw._http.post(
            janus.admin_url,
            json={
                "janus": "add_token",
                "token": token,
                "plugins": ["janus.plugin.echotest"],
                "transaction": "t",
                "admin_secret": janus.admin_secret,
            },
        )
        assert (await reply.json(content_type=None))["data"]["plugins"] == []
        session = await raw.session(token=token)
        denied = await raw.attach(session, token=token)
        assert denied["error"]["code"] == 405
        await media.remove_token(token)

    run(janus, scenario)


# ---------------------------------------------------------- room allowed list


def test_allowed_list_controls_who_joins(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        teacher = await new_pupil(media)
        pupil = await new_pupil(media)
        room, secret = await new_room(media, teacher)

        _, _, refused = await raw.join_publisher(room, "Ann", pupil)
        assert refused["error_code"] == 433

        assert sorted(await media.allow(room, secret, [pupil])) == sorted([teacher, pupil])
        session, handle, joined = await raw.join_publisher(room, "Ann", pupil)
        assert joined["videoroom"] == "joined" and joined["room"] == room
        await raw.request(
            f"/{session}/{handle}",
            {"janus": "message", "body": {"request": "leave"}},
            token=pupil,
        )

        assert await media.disallow(room, secret, [pupil]) == [teacher]
        _, _, refused = await raw.join_publisher(room, "Ann", pupil)
        assert refused["error_code"] == 433

        with pytest.raises(errors.Unauthorized):
            await media.allow(room, "wrong-secret", [pupil])
        with pytest.raises(errors.RoomNotFound):
            await media.allow(new_room_id(), secret, [pupil])
        await media.destroy_room(room, secret)

    run(janus, scenario)


# ------------------------------------------------------------------ removal


def test_kick_alone_does_not_ban(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        pupil = await new_pupil(media)
        room, secret = await new_room(media, pupil)
        _, _, joined = await raw.join_publisher(room, "Ann", pupil)
        await media.kick(room, secret, joined["id"])
        assert await media.list_participants(room) == []
        _, _, again = await raw.join_publisher(room, "Ann", pupil)
        assert again["videoroom"] == "joined"  # Janus lets them straight back in
        await media.destroy_room(room, secret)

    run(janus, scenario)


def test_remove_participant_kicks_and_bans(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        pupil, other = await new_pupil(media), await new_pupil(media)
        room, secret = await new_room(media, pupil, other)
        session, _, joined = await raw.join_publisher(room, "Ann", pupil)
        await raw.join_publisher(room, "Ben", other)

        await remove_participant(media, room, secret, joined["id"], pupil)

        # The token is revoked: the pupil cannot even long-poll to learn they were
        # kicked (our server must tell their page), nor make any other request.
        (polled,) = await raw.poll(session, token=pupil)
        assert polled["error"]["code"] == 403
        names = [p.display for p in await media.list_participants(room)]
        assert names == ["Ben"]
        # A raw client with the old token cannot get back in by any route.
        assert (await raw.request("", {"janus": "create"}, token=pupil))["error"]["code"] == 403
        reply = await raw.request(f"/{session}", {"janus": "keepalive"}, token=pupil)
        assert reply["error"]["code"] == 403
        # Even if the core token were re-issued, the room would refuse it.
        await media.add_token(pupil)
        _, _, refused = await raw.join_publisher(room, "Ann", pupil)
        assert refused["error_code"] == 433
        # Removing someone already gone is not an error.
        await remove_participant(media, room, secret, joined["id"], pupil)
        await media.destroy_room(room, secret)

    run(janus, scenario)
    kicked = janus.events.wait_for(
        lambda e: e.get("type") == 64 and (e["event"].get("data") or {}).get("event") == "kicked"
    )
    assert isinstance(parse_event(kicked), PluginEvent)


def test_list_participants_shows_only_display(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        pupil = await new_pupil(media)
        room, secret = await new_room(media, pupil)
        _, _, joined = await raw.join_publisher(room, "Ann", pupil)
        participants = await media.list_participants(room)
        assert [(p.id, p.display, p.publisher) for p in participants] == [
            (joined["id"], "Ann", False)
        ]
        # What anyone knowing the room id sees (listparticipants needs no secret):
        session = await raw.session(token=pupil)
        handle = (await raw.attach(session, token=pupil))["data"]["id"]
        reply = await raw.request(
            f"/{session}/{handle}",
            {"janus": "message", "body": {"request": "listparticipants", "room": room}},
            token=pupil,
        )
        (entry,) = videoroom_data(reply)["participants"]
        assert set(entry) <= {"id", "display", "publisher", "talking"}
        assert pupil not in str(reply) and "private_id" not in str(reply)
        await media.destroy_room(room, secret)

    run(janus, scenario)


# --------------------------------------------------------------------- mute


def test_mute_stops_a_stream_at_janus(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> list[str]:
        pupil = await new_pupil(media)
        room, secret = await new_room(media, pupil)
        session, _, joined = await raw.join_publisher(
            room, "Ann", pupil, jsep=fake_publisher_offer(), request="joinandconfigure"
        )
        assert [s["mid"] for s in joined["streams"]] == ["0", "1"]
        await media.mute(room, secret, joined["id"], "0", True)
        note = await raw.wait_plugin_event(
            session, lambda d: d.get("moderation") == "muted", token=pupil
        )
        assert note["mid"] == "0"
        await media.mute(room, secret, joined["id"], "0", False)
        with pytest.raises(errors.ParticipantNotFound):
            await media.mute(room, secret, joined["id"], "7", True)
        with pytest.raises(errors.Unauthorized):
            await media.mute(room, "wrong-secret", joined["id"], "0", True)
        await media.destroy_room(room, secret)
        return [line for line in str(joined.get("jsep", "")).splitlines() if "candidate" in line]

    run(janus, scenario)
    muted = janus.events.wait_for(
        lambda e: (
            e.get("type") == 64 and (e["event"].get("data") or {}).get("moderation") == "muted"
        )
    )
    event = parse_event(muted)
    assert isinstance(event, PluginEvent) and event.event == "moderated" and event.muted


def test_ice_candidates_only_on_the_namespace_veth(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> str:
        pupil = await new_pupil(media)
        room, secret = await new_room(media, pupil)
        session = await raw.session(token=pupil)
        handle = (await raw.attach(session, token=pupil))["data"]["id"]
        body = {
            "request": "joinandconfigure",
            "ptype": "publisher",
            "room": room,
            "display": "Ann",
            "token": pupil,
        }
        await raw.request(
            f"/{session}/{handle}",
            {"janus": "message", "body": body, "jsep": fake_publisher_offer()},
            token=pupil,
        )
        for _ in range(10):
            for event in await raw.poll(session, token=pupil):
                if "jsep" in event:
                    await media.destroy_room(room, secret)
                    sdp: str = event["jsep"]["sdp"]
                    return sdp
        raise AssertionError("no SDP answer")

    sdp = run(janus, scenario)
    candidates = [line for line in sdp.splitlines() if line.startswith("a=candidate")]
    assert candidates
    assert all(f" {janus.netns.ns_address} " in line for line in candidates)


# ---------------------------------------------------------------- recording


def test_recording_needs_the_room_secret(janus: JanusInstance, tmp_path: Path) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        pupil = await new_pupil(media)
        room, secret = await new_room(media, pupil)
        session = await raw.session(token=pupil)
        handle = (await raw.attach(session, token=pupil))["data"]["id"]
        for extra, code in (({}, 429), ({"secret": "guess"}, 433)):
            body = {"request": "enable_recording", "room": room, "record": True, **extra}
            reply = await raw.request(
                f"/{session}/{handle}", {"janus": "message", "body": body}, token=pupil
            )
            assert videoroom_data(reply)["error_code"] == code
        assert (await media.room_info(room))["record"] is False

        record_dir = str(janus.record_dir / room)
        await media.start_recording(room, secret, record_dir=record_dir)
        info = await media.room_info(room)
        assert (info["record"], info["rec_dir"]) == (True, record_dir)
        await media.stop_recording(room, secret)
        info = await media.room_info(room)
        assert (info["record"], info["rec_dir"]) == (False, media.idle_record_dir)
        with pytest.raises(errors.Unauthorized):
            await media.start_recording(room, "wrong-secret", record_dir=record_dir)
        await media.destroy_room(room, secret)

    run(janus, scenario)


def test_a_publisher_cannot_record_itself(janus: JanusInstance) -> None:
    """Janus 1.1.2 honours "record": true in joinandconfigure even with
    lock_record; parking the room's rec_dir under a regular file defeats it."""

    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> tuple[str, str]:
        pupil = await new_pupil(media)
        attempt = {"record": True}
        # Our rooms: rec_dir parked, the attempt creates nothing.
        room, secret = await new_room(media, pupil)
        _, _, joined = await raw.join_publisher(
            room,
            "Ann",
            pupil,
            jsep=fake_publisher_offer(),
            request="joinandconfigure",
            extra=attempt,
        )
        assert joined["videoroom"] == "joined"  # Janus does not refuse, it just cannot write
        await media.destroy_room(room, secret)
        # Control: a lock_record room pointing at a real folder DOES get files.
        control_dir = janus.record_dir / "control"
        control = new_room_id()
        session = await raw.session(apisecret=janus.api_secret)
        handle = (await raw.attach(session, apisecret=janus.api_secret))["data"]["id"]
        body = {
            "request": "create",
            "room": control,
            "admin_key": janus.admin_key,
            "secret": secret,
            "lock_record": True,
            "rec_dir": str(control_dir),
            "allowed": [pupil],
        }
        await raw.request(
            f"/{session}/{handle}",
            {"janus": "message", "body": body},
            apisecret=janus.api_secret,
        )
        await raw.join_publisher(
            control,
            "Ann",
            pupil,
            jsep=fake_publisher_offer(),
            request="joinandconfigure",
            extra=attempt,
        )
        await media.destroy_room(control, secret)
        return room, control

    room, control = run(janus, scenario)
    files = [p.name for p in janus.record_dir.rglob("*") if p.is_file()]
    assert not [f for f in files if room in f]
    assert [f for f in files if control in f]  # proves the attempt is real


# ------------------------------------------------------------------ lifecycle


def test_destroy_room(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        pupil = await new_pupil(media)
        room, secret = await new_room(media, pupil)
        session, _, _ = await raw.join_publisher(room, "Ann", pupil)
        with pytest.raises(errors.Unauthorized):
            await media.destroy_room(room, "wrong-secret")
        await media.destroy_room(room, secret)
        gone = await raw.wait_plugin_event(
            session, lambda d: d.get("videoroom") == "destroyed", token=pupil
        )
        assert gone["room"] == room
        assert not await media.exists(room)
        with pytest.raises(errors.RoomNotFound):
            await media.destroy_room(room, secret)
        with pytest.raises(errors.RoomNotFound):
            await media.list_participants(room)

    run(janus, scenario)


def test_adapter_recovers_a_lost_janus_session(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        room, secret = await new_room(media)
        # Someone (a Janus restart, a session timeout) destroys our session.
        assert media._session_id is not None
        await raw.request(f"/{media._session_id}", {"janus": "destroy"}, apisecret=janus.api_secret)
        assert await media.exists(room)
        await media.destroy_room(room, secret)

    run(janus, scenario)


def test_events_reach_our_server_with_basic_auth(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> tuple[str, str]:
        pupil = await new_pupil(media)
        room, secret = await new_room(media, pupil)
        await raw.join_publisher(room, "Ann", pupil)
        await media.destroy_room(room, secret)
        return room, pupil

    room, pupil = run(janus, scenario)

    def is_join(raw_event: dict[str, Any]) -> bool:
        event = parse_event(raw_event)
        return isinstance(event, PluginEvent) and event.event == "joined" and event.room == room

    joined = parse_event(janus.events.wait_for(is_join))
    assert isinstance(joined, PluginEvent)
    assert (joined.display, joined.token) == ("Ann", pupil)  # the token says who it is
    assert janus.events.rejected == 0


# ------------------------------------------------ removal: the raw client's sessions


async def new_room_with_dummy_feed(media: JanusMediaServer, *tokens: str) -> tuple[str, str, str]:
    """A room with our settings plus a VideoRoom dummy publisher: a feed that is
    always "started", so a subscriber can join it without real media.
    Returns (room, secret, feed id)."""
    room, secret = new_room_id(), new_room_secret()
    await media._videoroom(
        {
            "request": "create",
            "admin_key": media._admin_key,
            "room": room,
            "permanent": False,
            "description": "Year 6 science",
            "secret": secret,
            "is_private": True,
            "allowed": list(tokens),
            "require_pvtid": True,
            "notify_joining": True,
            "publishers": 6,
            "lock_record": True,
            "rec_dir": media.idle_record_dir,
            "dummy_publisher": True,
            "dummy_streams": [{"codec": "opus"}, {"codec": "vp8"}],
        }
    )
    (dummy,) = await media.list_participants(room)
    return room, secret, dummy.id


async def subscribe(
    raw: RawJanusClient, session: int, token: str, room: str, feed: str, private_id: int
) -> int:
    """A subscriber handle in session, as a raw client (not our page) can open."""
    handle = int((await raw.attach(session, token=token))["data"]["id"])
    body = {
        "request": "join",
        "ptype": "subscriber",
        "room": room,
        "streams": [{"feed": feed}],
        "private_id": private_id,
    }
    ack = await raw.request(f"/{session}/{handle}", {"janus": "message", "body": body}, token=token)
    assert ack["janus"] == "ack", ack
    attached = await raw.wait_plugin_event(
        session, lambda d: d.get("videoroom") == "attached" or "error_code" in d, token=token
    )
    assert attached.get("videoroom") == "attached", attached
    return handle


async def handles_of(media: JanusMediaServer, session: int) -> dict[int, dict[str, Any]]:
    """Each handle of a session with its VideoRoom role, as the admin API shows it."""
    listed = await media._admin({"janus": "list_handles", "session_id": session})
    result = {}
    for handle in listed["handles"]:
        body = {"janus": "handle_info", "session_id": session, "handle_id": handle}
        info = (await media._admin(body))["info"]
        result[int(handle)] = info
    return result


async def sessions_at_janus(media: JanusMediaServer) -> set[int]:
    return {int(s) for s in (await media._admin({"janus": "list_sessions"}))["sessions"]}


def test_kick_leaves_a_raw_clients_subscriber_handles(janus: JanusInstance) -> None:
    """Janus 1.1.2: ``kick`` closes the publisher's PeerConnection only. A raw
    client's subscriber handle in the very same session is untouched (still a
    subscriber with its streams set to send), and so is its session. This is why
    remove_participant destroys the sessions too."""

    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        pupil = await new_pupil(media)
        room, secret, feed = await new_room_with_dummy_feed(media, pupil)
        session, publisher, joined = await raw.join_publisher(
            room, "Ann", pupil, jsep=fake_publisher_offer(), request="joinandconfigure"
        )
        subscriber = await subscribe(raw, session, pupil, room, feed, joined["private_id"])
        before = await handles_of(media, session)
        assert before[publisher]["plugin_specific"]["type"] == "publisher"
        assert before[subscriber]["plugin_specific"]["type"] == "subscriber"
        # Janus names the core token each handle was attached with.
        assert {info["token"] for info in before.values()} == {pupil}

        await media.kick(room, secret, joined["id"])

        after = await handles_of(media, session)
        assert set(after) == {publisher, subscriber}  # both handles, same session
        kept = after[subscriber]["plugin_specific"]
        assert kept["type"] == "subscriber" and kept["room"] == room
        assert [(s["feed_id"], s["active"], s["send"]) for s in kept["streams"]] == [
            (feed, True, True),
            (feed, True, True),
        ]
        assert "id" not in after[publisher]["plugin_specific"]  # the publisher is gone
        assert session in await sessions_at_janus(media)
        await media.destroy_session(session)
        await media.remove_token(pupil)
        await media.destroy_room(room, secret)

    run(janus, scenario)


def test_remove_participant_destroys_the_raw_clients_sessions(janus: JanusInstance) -> None:
    """After removal no session of the pupil's is left at Janus: not the one
    with their publisher and a subscriber handle, not a second one holding only
    a subscriber; found by their token, with no Janus event needed."""

    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> set[int]:
        pupil, other = await new_pupil(media), await new_pupil(media)
        room, secret, feed = await new_room_with_dummy_feed(media, pupil, other)
        session, publisher, joined = await raw.join_publisher(
            room, "Ann", pupil, jsep=fake_publisher_offer(), request="joinandconfigure"
        )
        subscriber = await subscribe(raw, session, pupil, room, feed, joined["private_id"])
        second = await raw.session(token=pupil)
        lone = await subscribe(raw, second, pupil, room, feed, joined["private_id"])
        other_session, _, _ = await raw.join_publisher(room, "Ben", other)
        assert sorted(await media.sessions_with_token(pupil)) == sorted([session, second])

        await remove_participant(media, room, secret, joined["id"], pupil)

        remaining = await sessions_at_janus(media)
        assert session not in remaining and second not in remaining
        assert other_session in remaining  # nobody else's session is touched
        # Requests on those sessions now fail because they no longer exist, even
        # with our api secret; and there is nothing left to destroy.
        for gone in (session, second):
            reply = await raw.request(
                f"/{gone}", {"janus": "keepalive"}, apisecret=janus.api_secret
            )
            assert reply["error"]["code"] == 458  # no such session
            with pytest.raises(errors.SessionGone):
                await media.destroy_session(gone)
        assert await media.sessions_with_token(pupil) == []
        names = sorted(p.display for p in await media.list_participants(room))
        assert names == ["Ben", "Dummy publisher"]
        # A session known only from events (it has no handle, so no token shows),
        # and stale or missing ids, are fine too.
        await media.add_token(pupil)
        again = await raw.session(token=pupil)
        await media.remove_token(pupil)
        await remove_participant(media, room, secret, joined["id"], pupil, [again, None, 1])
        assert again not in await sessions_at_janus(media)
        await media.destroy_room(room, secret)
        return {publisher, subscriber, lone}

    handles = run(janus, scenario)
    for handle in handles:  # Janus detached every handle (closing its PeerConnection)
        janus.events.wait_for(
            lambda e, h=handle: (
                e.get("type") == 2
                and e.get("handle_id") == h
                and (e.get("event") or {}).get("name") == "detached"
            )
        )


def test_remove_participant_from_a_room_already_gone(janus: JanusInstance) -> None:
    """The room is gone (Janus restarted, lesson ended): the token is still
    revoked and the sessions destroyed before RoomNotFound is raised."""

    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        pupil = await new_pupil(media)
        room, secret = await new_room(media, pupil)
        session, _, joined = await raw.join_publisher(room, "Ann", pupil)
        await media.destroy_room(room, secret)
        with pytest.raises(errors.RoomNotFound):
            await remove_participant(media, room, secret, joined["id"], pupil)
        assert session not in await sessions_at_janus(media)
        with pytest.raises(errors.TokenNotFound):
            await media.remove_token(pupil)

    run(janus, scenario)
