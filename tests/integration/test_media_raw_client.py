"""What a raw Janus client holding only a pupil's token can and cannot do.

The browser talks to Janus directly, so a pupil (or anyone who copies their
token from the page) can send Janus any request at all. Each test here plays
such a client against a real Janus 1.1.2 configured from our templates (see
janus_harness): the token is issued exactly as the project does, as a core
token (``media.add_token``) plus an entry in the room's ``allowed`` list, and
rooms are created by the adapter. What keeps the client in its place is
Janus' own configuration: the VideoRoom ``admin_key``, the room ``secret``,
``allowed``, ``require_pvtid``, ``lock_record`` and the parked ``rec_dir``.

Two rooms play two lessons: "A" (the pupil's own) and "B" (another lesson).

Janus 1.1.2 facts these tests pin down (see the tests for the evidence):

* ``allowed`` is checked for publishers only. A subscriber ``join`` never
  looks at the token; what stops a pupil subscribing to another lesson's
  feeds is ``require_pvtid``: a subscriber must name the private id of a
  publisher *in the same room*, and a pupil can only ever be a publisher in
  rooms whose ``allowed`` list holds their token.
* A publisher's ``configure`` with ``"record": true`` in a ``lock_record``
  room without the secret is silently ignored (Janus answers ``configured``).
* Subscribing needs a feed whose PeerConnection is up; our fake SDP offers
  never get that far, so feeds to subscribe to are VideoRoom "dummy
  publishers" (always started), in rooms otherwise created exactly like ours.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from safeclass.media.adapter import (
    JanusMediaServer,
    new_participant_token,
    new_room_id,
    new_room_secret,
    remove_participant,
)
from tests.integration.janus_harness import (
    JanusInstance,
    RawJanusClient,
    fake_publisher_offer,
    janus_fixture,
)

pytestmark = pytest.mark.janus

janus = janus_fixture(scope="module")

T = TypeVar("T")
JSON = dict[str, Any]

MISSING = 429  # JANUS_VIDEOROOM_ERROR_MISSING_ELEMENT
UNAUTHORIZED = 433  # JANUS_VIDEOROOM_ERROR_UNAUTHORIZED
NO_SUCH_FEED = 428
CORE_UNAUTHORIZED = 403

#: No secret, then a guessed one: what a client without the room secret can send.
WITHOUT_SECRET: tuple[tuple[JSON, int], ...] = (({}, MISSING), ({"secret": "guess"}, UNAUTHORIZED))


def run(instance: JanusInstance, scenario: Callable[..., Awaitable[T]]) -> T:
    async def main() -> T:
        async with instance.media_server() as media, instance.raw_client() as raw:
            return await scenario(media, raw)

    return asyncio.run(main())


async def new_token(media: JanusMediaServer) -> str:
    """A participant token, issued as the project does (core token; the room's
    allowed list is set when the room is created)."""
    token = new_participant_token()
    await media.add_token(token)
    return token


async def new_room(media: JanusMediaServer, *tokens: str) -> tuple[str, str]:
    room, secret = new_room_id(), new_room_secret()
    await media.create_room(
        room, secret=secret, description="Year 5 maths", publishers=6, allowed=list(tokens)
    )
    return room, secret


async def new_room_with_dummy_feed(
    media: JanusMediaServer,
    janus: JanusInstance,
    *tokens: str,
    require_pvtid: bool = True,
) -> tuple[str, str, str]:
    """A room with our settings plus a VideoRoom dummy publisher (a feed that
    is always "started", so subscribing to it gets past the feed check).
    Returns (room, secret, feed id)."""
    room, secret = new_room_id(), new_room_secret()
    await media._videoroom(
        {
            "request": "create",
            "admin_key": janus.admin_key,
            "room": room,
            "permanent": False,
            "description": "Year 6 science",
            "secret": secret,
            "is_private": True,
            "allowed": list(tokens),
            "require_pvtid": require_pvtid,
            "notify_joining": True,
            "publishers": 6,
            "record": False,
            "lock_record": True,
            "rec_dir": media.idle_record_dir,
            "dummy_publisher": True,
            "dummy_streams": [{"codec": "opus"}, {"codec": "vp8"}],
        }
    )
    (dummy,) = await media.list_participants(room)
    return room, secret, dummy.id


class Pupil:
    """A raw client holding one token: one Janus session, handles on demand."""

    def __init__(self, raw: RawJanusClient, token: str) -> None:
        self.raw, self.token = raw, token
        self.session = 0

    async def open(self) -> Pupil:
        self.session = await self.raw.session(token=self.token)
        return self

    async def handle(self) -> int:
        attached = await self.raw.attach(self.session, token=self.token)
        assert attached["janus"] == "success", attached
        return int(attached["data"]["id"])

    async def sync(self, body: JSON, handle: int | None = None) -> JSON:
        """A synchronous VideoRoom request; returns the plugin data (or the
        core reply when Janus itself refuses)."""
        handle = handle or await self.handle()
        reply = await self.raw.request(
            f"/{self.session}/{handle}", {"janus": "message", "body": body}, token=self.token
        )
        if reply.get("janus") == "error":
            return reply
        data: JSON = reply["plugindata"]["data"]
        return data

    async def ask(self, handle: int, body: JSON, jsep: JSON | None = None) -> JSON:
        """An asynchronous VideoRoom request (join, configure): waits for this
        handle's answer event and returns its plugin data."""
        message: JSON = {"janus": "message", "body": body}
        if jsep is not None:
            message["jsep"] = jsep
        ack = await self.raw.request(f"/{self.session}/{handle}", message, token=self.token)
        assert ack["janus"] == "ack", ack
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for event in await self.raw.poll(self.session, token=self.token):
                if event.get("sender") != handle or event.get("janus") != "event":
                    continue
                data: JSON = (event.get("plugindata") or {}).get("data") or {}
                if "error_code" in data or data.get("videoroom") in ("joined", "attached"):
                    return data
                if data.get("configured"):
                    return data
        raise TimeoutError(f"no answer to {body['request']}")

    async def publish(self, room: str, display: str, **extra: Any) -> JSON:
        """Join room as a publisher with a (fake) offer, as our client does."""
        handle = await self.handle()
        data = await self.ask(
            handle,
            {
                "request": "joinandconfigure",
                "ptype": "publisher",
                "room": room,
                "display": display,
                "token": self.token,
                **extra,
            },
            jsep=fake_publisher_offer(),
        )
        data["handle"] = handle
        return data

    async def subscribe(self, room: str, feed: str, **extra: Any) -> JSON:
        return await self.ask(
            await self.handle(),
            {
                "request": "join",
                "ptype": "subscriber",
                "room": room,
                "streams": [{"feed": feed}],
                "token": self.token,
                **extra,
            },
        )


def recordings(janus: JanusInstance, *names: str) -> list[str]:
    """Recording files anywhere under our record dir whose name has one of names."""
    files = (p.name for p in janus.record_dir.rglob("*.mjr*"))
    return sorted(f for f in files if any(name in f for name in names))


def plugin_data(event: JSON) -> JSON:
    """The VideoRoom data of an event-handler event ({} for other events)."""
    if event.get("type") != 64:
        return {}
    data: JSON = (event.get("event") or {}).get("data") or {}
    return data


# --------------------------------------------------------------- (1) create


def test_pupil_token_cannot_create_or_find_rooms(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        token = await new_token(media)
        own, _ = await new_room(media, token)
        pupil = await Pupil(raw, token).open()
        room = new_room_id()
        for extra, code in (({}, MISSING), ({"admin_key": "guess"}, UNAUTHORIZED)):
            create = {"request": "create", "room": room, "allowed": [token], **extra}
            assert (await pupil.sync(create))["error_code"] == code
        assert not await media.exists(room)
        # Our rooms are private: "list" without the admin key does not show them.
        listed = await pupil.sync({"request": "list"})
        assert own not in str(listed)
        # Forwarding a room's media elsewhere also needs the admin key.
        forward = {"request": "rtp_forward", "room": own, "publisher_id": "x", "host": "10.0.0.1"}
        assert (await pupil.sync(forward))["error_code"] == MISSING

    run(janus, scenario)


# ------------------------------------------- (2) kick, (3) moderate, (9) destroy/edit


def test_pupil_token_cannot_moderate_or_change_rooms(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        token, teacher_a, teacher_b = [await new_token(media) for _ in range(3)]
        room_a, secret_a = await new_room(media, token, teacher_a)
        room_b, secret_b = await new_room(media, teacher_b)
        victim_a = await (await Pupil(raw, teacher_a).open()).publish(room_a, "Mrs A")
        victim_b = await (await Pupil(raw, teacher_b).open()).publish(room_b, "Mr B")
        pupil = await Pupil(raw, token).open()
        await pupil.publish(room_a, "Ann")

        for room, victim in ((room_a, victim_a["id"]), (room_b, victim_b["id"])):
            requests = [
                {"request": "kick", "room": room, "id": victim},
                {"request": "moderate", "room": room, "id": victim, "mid": "0", "mute": True},
                {"request": "destroy", "room": room},
                {"request": "edit", "room": room, "new_rec_dir": str(janus.record_dir)},
                {"request": "edit", "room": room, "new_lock_record": False},
                {"request": "edit", "room": room, "new_require_pvtid": False},
                {"request": "edit", "room": room, "new_is_private": False},
                {"request": "allowed", "room": room, "action": "disable"},
                {"request": "allowed", "room": room, "action": "add", "allowed": [token]},
                {"request": "enable_recording", "room": room, "record": True},
            ]
            for body in requests:
                for extra, code in WITHOUT_SECRET:
                    data = await pupil.sync({**body, **extra})
                    assert data.get("error_code") == code, (body, extra, data)

        # Nothing changed: both teachers are still in, unmuted, rooms as created.
        for room, name in ((room_a, "Mrs A"), (room_b, "Mr B")):
            assert name in [p.display for p in await media.list_participants(room)]
            info = await media.room_info(room)
            assert info["is_private"] and info["require_pvtid"] and info["lock_record"]
            assert (info["record"], info["rec_dir"]) == (False, media.idle_record_dir)
        # Janus' event handler posts events in order: once this later join has
        # reached us, any "moderated" event from the attempts above would have too.
        sentinel = await (await Pupil(raw, teacher_a).open()).publish(room_a, "Mrs A again")
        janus.events.wait_for(lambda e: plugin_data(e).get("id") == sentinel["id"])
        moderated = [e for e in janus.events.snapshot() if plugin_data(e).get("moderation")]
        assert not [e for e in moderated if plugin_data(e).get("room") in (room_a, room_b)]
        # ... and the pupil is still not allowed into room B.
        refused = await pupil.publish(room_b, "Ann")
        assert refused["error_code"] == UNAUTHORIZED
        await media.destroy_room(room_a, secret_a)
        await media.destroy_room(room_b, secret_b)

    run(janus, scenario)


# -------------------------------------------------------------- (4) record


def test_pupil_token_cannot_record(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> tuple[str, str]:
        token = await new_token(media)
        room, secret = await new_room(media, token)
        pupil = await Pupil(raw, token).open()
        joined = await pupil.publish(room, "Ann")
        handle = joined["handle"]

        # enable_recording needs the secret.
        for extra, code in WITHOUT_SECRET:
            body = {"request": "enable_recording", "room": room, "record": True, **extra}
            assert (await pupil.sync(body, handle))["error_code"] == code
        # configure "record": true (also with a filename trying to climb out of
        # rec_dir) is accepted by Janus, which just ignores it without the secret.
        escape = f"../../../../../..{janus.record_dir}/escaped"
        for extra, _ in WITHOUT_SECRET:
            for attempt in ({"record": True}, {"record": True, "filename": escape}):
                body = {"request": "configure", **attempt, **extra}
                data = await pupil.ask(handle, body, jsep=fake_publisher_offer())
                assert data.get("configured") == "ok", data
        assert (await media.room_info(room))["record"] is False
        await asyncio.sleep(0.2)
        assert recordings(janus, room, "escaped") == [], "a room as we create it records nothing"

        # The same attempts while the room points at a real folder (as between
        # start_recording's two steps): lock_record alone still stops them.
        real_dir = janus.record_dir / f"real-{room}"
        await media._videoroom(
            {"request": "edit", "room": room, "secret": secret, "new_rec_dir": str(real_dir)}
        )
        for extra, _ in WITHOUT_SECRET:
            body = {"request": "configure", "record": True, **extra}
            assert (await pupil.ask(handle, body, jsep=fake_publisher_offer()))["configured"]
        await asyncio.sleep(0.2)
        assert recordings(janus, room, "escaped") == []
        # Control: with the room secret the very same request does record, so
        # the attempts above were real ones.
        body = {"request": "configure", "record": True, "secret": secret}
        assert (await pupil.ask(handle, body, jsep=fake_publisher_offer()))["configured"]
        await media.destroy_room(room, secret)
        return room, str(real_dir)

    room, real_dir = run(janus, scenario)
    files = [str(p) for p in janus.record_dir.rglob("*.mjr*") if room in p.name]
    assert files and all(f.startswith(real_dir + "/") for f in files)
    assert recordings(janus, "escaped") == []


# ------------------------------------------------------ (5) publish elsewhere


def test_pupil_token_cannot_publish_in_another_lesson(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        token, teacher_b = await new_token(media), await new_token(media)
        room_a, secret_a = await new_room(media, token)
        room_b, secret_b = await new_room(media, teacher_b)
        pupil = await Pupil(raw, token).open()
        await pupil.publish(room_a, "Ann")

        attempts: list[tuple[JSON, JSON | None]] = [
            ({"request": "join", "token": token}, None),
            ({"request": "join"}, None),  # no token at all
            ({"request": "joinandconfigure", "token": token}, fake_publisher_offer()),
            ({"request": "joinandconfigure", "token": token, "secret": "guess"}, None),
        ]
        for body, jsep in attempts:
            base = {"ptype": "publisher", "room": room_b, "display": "Ann"}
            data = await pupil.ask(await pupil.handle(), {**base, **body}, jsep=jsep)
            assert data.get("error_code") == UNAUTHORIZED, (body, data)
            assert "allowed list" in data["error"]
        assert await media.list_participants(room_b) == []
        await media.destroy_room(room_a, secret_a)
        await media.destroy_room(room_b, secret_b)

    run(janus, scenario)


# ---------------------------------------------------- (6) subscribe elsewhere


def test_subscribing_across_lessons_is_stopped_by_private_ids_not_tokens(
    janus: JanusInstance,
) -> None:
    """Janus 1.1.2 does NOT check ``allowed`` for subscribers.

    A subscriber ``join`` is refused in another lesson's room only because our
    rooms have ``require_pvtid``: the subscriber must present the private id of
    a publisher in that same room, which a pupil never is. The last part shows
    a room differing from ours only in ``require_pvtid`` letting a token that is
    not in its allowed list (or a made-up one) subscribe: never drop it.
    """

    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        token = await new_token(media)
        room_a, secret_a, feed_a = await new_room_with_dummy_feed(media, janus, token)
        room_b, secret_b, feed_b = await new_room_with_dummy_feed(media, janus)
        pupil = await Pupil(raw, token).open()
        private_id = (await pupil.publish(room_a, "Ann"))["private_id"]

        # Another lesson's feed: refused with no private id, and with the pupil's
        # private id from their own room (private ids are per room).
        for extra in ({}, {"private_id": private_id}):
            data = await pupil.subscribe(room_b, feed_b, **extra)
            assert data.get("error_code") == UNAUTHORIZED, data
            assert "private_id" in data["error"]  # the refusal is require_pvtid's
        # A feed id from another room is unknown in the pupil's own room.
        data = await pupil.subscribe(room_a, feed_b, private_id=private_id)
        assert data.get("error_code") == NO_SUCH_FEED
        # Their own lesson's feeds: allowed (the most a pupil's token can get).
        data = await pupil.subscribe(room_a, feed_a, private_id=private_id)
        assert data.get("videoroom") == "attached" and data["room"] == room_a

        # The finding: without require_pvtid, the token is not checked at all.
        open_room, open_secret, open_feed = await new_room_with_dummy_feed(
            media, janus, require_pvtid=False
        )
        refused = await pupil.publish(open_room, "Ann")
        assert refused["error_code"] == UNAUTHORIZED  # publishing: allowed list applies
        for extra in ({}, {"token": "made-up"}):  # its own token, or any string
            data = await pupil.subscribe(open_room, open_feed, **extra)
            assert data.get("videoroom") == "attached", data  # subscribing: it does not
        for room, secret in ((room_a, secret_a), (room_b, secret_b), (open_room, open_secret)):
            await media.destroy_room(room, secret)

    run(janus, scenario)


# ------------------------------------------------------ (7) after removal


def test_removed_token_cannot_come_back_by_raw_request(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        token = await new_token(media)
        room, secret, feed = await new_room_with_dummy_feed(media, janus, token)
        pupil = await Pupil(raw, token).open()
        joined = await pupil.publish(room, "Ann")
        spare = await pupil.handle()  # a handle opened before removal

        await remove_participant(media, room, secret, joined["id"], token)

        url = f"/{pupil.session}"
        assert (await raw.request("", {"janus": "create"}, token=token))["error"]["code"] == 403
        attach = {"janus": "attach", "plugin": "janus.plugin.videoroom"}
        assert (await raw.request(url, attach, token=token))["error"]["code"] == 403
        bodies = [
            {"request": "join", "ptype": "publisher", "room": room, "token": token},
            {
                "request": "join",
                "ptype": "subscriber",
                "room": room,
                "streams": [{"feed": feed}],
                "private_id": joined["private_id"],
            },
            {"request": "listparticipants", "room": room},
        ]
        for body in bodies:
            reply = await raw.request(
                f"{url}/{spare}", {"janus": "message", "body": body}, token=token
            )
            assert reply["error"]["code"] == CORE_UNAUTHORIZED, (body, reply)
        (polled,) = await raw.poll(pupil.session, token=token)
        assert polled["error"]["code"] == CORE_UNAUTHORIZED

        # Belt and braces: even if the core token came back (a bug), the room
        # refuses to publish it and its old private id no longer subscribes.
        await media.add_token(token)
        again = await Pupil(raw, token).open()
        assert (await again.publish(room, "Ann"))["error_code"] == UNAUTHORIZED
        data = await again.subscribe(room, feed, private_id=joined["private_id"])
        assert data["error_code"] == UNAUTHORIZED and "private_id" in data["error"]
        await media.remove_token(token)
        await media.destroy_room(room, secret)

    run(janus, scenario)


# ------------------------------------------------- (8) listing another room


def test_listparticipants_in_another_room_shows_no_secrets(janus: JanusInstance) -> None:
    async def scenario(media: JanusMediaServer, raw: RawJanusClient) -> None:
        token, teacher_b, pupil_b = [await new_token(media) for _ in range(3)]
        room_a, secret_a = await new_room(media, token)
        room_b, secret_b = await new_room(media, teacher_b, pupil_b)
        joined_t = await (await Pupil(raw, teacher_b).open()).publish(room_b, "Mr B")
        joined_p = await (await Pupil(raw, pupil_b).open()).publish(room_b, "Cai")
        pupil = await Pupil(raw, token).open()
        await pupil.publish(room_a, "Ann")

        # Janus answers anyone with a valid token who knows the room id (which is
        # why room ids are 128 random bits), but only with harmless fields.
        reply = await pupil.sync({"request": "listparticipants", "room": room_b})
        entries = reply["participants"]
        assert sorted(e["display"] for e in entries) == ["Cai", "Mr B"]
        for entry in entries:
            assert set(entry) <= {"id", "display", "publisher", "talking"}, entry
        text = str(reply)
        for secret_value in (teacher_b, pupil_b, secret_b, str(joined_t["private_id"])):
            assert secret_value not in text
        assert str(joined_p["private_id"]) not in text and "private_id" not in text
        assert "token" not in text and "allowed" not in text
        # A room id that does not exist tells nothing beyond that.
        missing = await pupil.sync({"request": "listparticipants", "room": new_room_id()})
        assert missing["error_code"] == 426
        await media.destroy_room(room_a, secret_a)
        await media.destroy_room(room_b, secret_b)

    run(janus, scenario)
