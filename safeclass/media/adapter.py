"""The media adapter: SafeClass' only code that speaks to Janus.

:class:`MediaServer` is the small interface the rest of SafeClass uses;
:class:`JanusMediaServer` implements it over Janus' JSON API (HTTP) and admin
API with aiohttp. See docs/media.md.

Session model: one long-lived Janus session with one VideoRoom handle per
``JanusMediaServer``, created on first use. All requests we send are the
VideoRoom's *synchronous* ones (create, allowed, kick, moderate, ...), which
Janus answers in the HTTP response itself, so no long-poll is needed. There is
no keepalive task: when the session has timed out (idle longer than Janus'
``session_timeout``) or Janus restarted, Janus answers 458/459 and the request
is retried once on a fresh session. ``close()`` destroys the session.

Our server authenticates on the Janus API with the ``api_secret`` (Janus
accepts a request with either a valid apisecret or a valid stored token) and on
the admin API with the ``admin_secret``; room creation also needs the
VideoRoom ``admin_key``, and every room operation the room's ``secret``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

import aiohttp

from .errors import (
    InvalidRequest,
    JanusError,
    JanusUnavailable,
    ParticipantNotFound,
    RoomNotFound,
    SessionGone,
    TokenNotFound,
    core_error,
    videoroom_error,
)
from .janus_config import VIDEOROOM_PLUGIN, JanusConfig

JSON = dict[str, Any]

#: Room ids are 128 random bits as 32 hex characters (VideoRoom string_ids).
ROOM_ID_HEX_CHARS = 32
# Janus' per-publisher bitrate cap in every lesson room (bits per second).
ROOM_BITRATE = 512_000


def new_room_id() -> str:
    """An unguessable VideoRoom room id (128 bits, 32 hex characters).

    ``exists`` and ``listparticipants`` need no secret, so the id itself is
    what keeps a room's participant list private.
    """
    return secrets.token_hex(16)


def new_participant_token() -> str:
    """A token for one participant: 192 bits, URL-safe.

    The same value serves as the Janus core token (``add_token``) and as the
    room's ``allowed`` entry the participant presents in ``join``.
    """
    return secrets.token_urlsafe(24)


def new_room_secret() -> str:
    """The room ``secret`` our server keeps for moderating one room."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Health:
    version: str
    server_name: str
    videoroom_loaded: bool
    admin_ok: bool

    @property
    def ok(self) -> bool:
        return self.videoroom_loaded and self.admin_ok


@dataclass(frozen=True)
class Participant:
    """A participant as ``listparticipants`` shows it (to anyone with the room id)."""

    id: str
    display: str
    publisher: bool
    talking: bool | None = None


@runtime_checkable
class MediaServer(Protocol):
    """What SafeClass needs from a media server. All methods raise JanusError subclasses."""

    async def health(self) -> Health: ...

    async def create_room(
        self,
        room: str,
        *,
        secret: str,
        description: str,
        publishers: int,
        allowed: list[str],
    ) -> None: ...

    async def exists(self, room: str) -> bool: ...

    async def destroy_room(self, room: str, secret: str) -> None: ...

    async def allow(self, room: str, secret: str, tokens: list[str]) -> list[str]: ...

    async def disallow(self, room: str, secret: str, tokens: list[str]) -> list[str]: ...

    async def add_token(self, token: str) -> None: ...

    async def remove_token(self, token: str) -> None: ...

    async def mute(
        self, room: str, secret: str, participant_id: str, mid: str, mute: bool
    ) -> None: ...

    async def kick(self, room: str, secret: str, participant_id: str) -> None: ...

    async def list_participants(self, room: str) -> list[Participant]: ...

    async def sessions_with_tokens(self, tokens: Collection[str]) -> list[int]: ...

    async def sessions_with_token(self, token: str) -> list[int]: ...

    async def destroy_session(self, session_id: int) -> None: ...

    async def start_recording(self, room: str, secret: str, *, record_dir: str) -> None: ...

    async def stop_recording(self, room: str, secret: str) -> None: ...

    async def close(self) -> None: ...


async def remove_participant(
    media: MediaServer,
    room: str,
    secret: str,
    participant_id: str | None,
    token: str,
    session_ids: Iterable[int | None] = (),
) -> None:
    """Remove a participant for good: what ``no-rejoin-after-removal`` needs.

    Order matters: ``kick`` alone does not ban (the token would still be in the
    room's ``allowed`` list), and revoking the core token alone leaves media
    flowing. So: take the token out of the room, kick the participant (if they
    are in), revoke the core token so a raw client cannot open sessions, then
    destroy every Janus session of theirs (see :func:`close_sessions`): Janus
    1.1.2's ``kick`` closes only the publisher's PeerConnection, and a raw
    client's subscriber handles (in that session or another) keep theirs.
    ``session_ids`` are sessions known from Janus' events (``None`` entries are
    skipped). Steps that find nothing to undo are not errors; if the room is
    gone, the token is still revoked and the sessions destroyed, then
    RoomNotFound is raised.
    """
    room_gone: RoomNotFound | None = None
    try:
        await media.disallow(room, secret, [token])
        if participant_id is not None:
            try:
                await media.kick(room, secret, participant_id)
            except ParticipantNotFound:
                pass
    except RoomNotFound as exc:
        room_gone = exc
    try:
        await media.remove_token(token)
    except TokenNotFound:
        pass
    await close_sessions(media, [token], session_ids)
    if room_gone is not None:
        raise room_gone


async def close_sessions(
    media: MediaServer, tokens: Collection[str], session_ids: Iterable[int | None] = ()
) -> list[int]:
    """Destroy, at Janus, every session with a handle attached with one of tokens,
    plus session_ids; returns the sessions destroyed.

    Call it AFTER revoking the tokens, so no new session can appear meanwhile.
    Destroying a session detaches all its handles, which closes their
    PeerConnections: no media flows to or from it any more. Sessions already
    gone are skipped.
    """
    wanted = {s for s in session_ids if s is not None}
    if tokens:
        wanted.update(await media.sessions_with_tokens(tokens))
    destroyed = []
    for session_id in sorted(wanted):
        try:
            await media.destroy_session(session_id)
        except SessionGone:
            continue
        destroyed.append(session_id)
    return destroyed


class JanusMediaServer:
    """MediaServer over Janus' HTTP JSON API and admin API."""

    def __init__(
        self,
        http_url: str,
        admin_url: str,
        *,
        api_secret: str,
        admin_secret: str,
        admin_key: str,
        idle_record_dir: str,
        timeout: float = 10.0,
    ) -> None:
        """``idle_record_dir`` is where rooms point while *not* recording: a path
        under a regular file, so Janus cannot create anything there. Janus 1.1.2
        lets a publisher start its own recording with ``joinandconfigure`` +
        ``"record": true`` even in a ``lock_record`` room; parking the room's
        ``rec_dir`` makes such a recording fail. See docs/media.md.
        """
        self.http_url = http_url.rstrip("/")
        self.admin_url = admin_url.rstrip("/")
        self._api_secret = api_secret
        self._admin_secret = admin_secret
        self._admin_key = admin_key
        self.idle_record_dir = idle_record_dir
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._http: aiohttp.ClientSession | None = None
        self._session_id: int | None = None
        self._handle_id: int | None = None
        self._attach_lock = asyncio.Lock()

    @classmethod
    def from_config(cls, config: JanusConfig, *, timeout: float = 10.0) -> JanusMediaServer:
        if config.api_secret is None:
            raise ValueError("JanusMediaServer needs a JanusConfig with an api_secret")
        return cls(
            config.http_url,
            config.admin_url,
            api_secret=config.api_secret,
            admin_secret=config.admin_secret,
            admin_key=config.videoroom_admin_key,
            idle_record_dir=config.idle_record_dir,
            timeout=timeout,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Destroy our Janus session (best effort) and close the HTTP client."""
        session_id, self._session_id, self._handle_id = self._session_id, None, None
        if session_id is not None and self._http is not None:
            try:
                await self._core(f"{self.http_url}/{session_id}", {"janus": "destroy"})
            except JanusError:
                pass
        if self._http is not None:
            await self._http.close()
            self._http = None

    # ------------------------------------------------------------ transport

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        return self._http

    async def _post(self, url: str, body: JSON) -> JSON:
        body = {**body, "transaction": secrets.token_hex(12)}
        try:
            async with self._client().post(url, json=body) as response:
                reply = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise JanusUnavailable(f"Janus at {url} did not answer: {exc!r}") from exc
        if not isinstance(reply, dict):
            raise JanusUnavailable(f"Janus at {url} sent something that is not a JSON object")
        if reply.get("transaction") != body["transaction"]:
            raise JanusUnavailable("Janus answered a different transaction")
        return reply

    async def _core(self, url: str, body: JSON) -> JSON:
        """A Janus API request authenticated with our api secret."""
        reply = await self._post(url, {**body, "apisecret": self._api_secret})
        return _check_core(reply)

    async def _admin(self, body: JSON) -> JSON:
        reply = await self._post(self.admin_url, {**body, "admin_secret": self._admin_secret})
        return _check_core(reply)

    async def _handle_url(self) -> str:
        async with self._attach_lock:
            if self._session_id is None or self._handle_id is None:
                created = await self._core(self.http_url, {"janus": "create"})
                session_id = int(created["data"]["id"])
                attached = await self._core(
                    f"{self.http_url}/{session_id}",
                    {"janus": "attach", "plugin": VIDEOROOM_PLUGIN},
                )
                self._session_id, self._handle_id = session_id, int(attached["data"]["id"])
            return f"{self.http_url}/{self._session_id}/{self._handle_id}"

    async def _videoroom(self, body: JSON) -> JSON:
        """A synchronous VideoRoom request; returns the plugin's data."""
        for attempt in (1, 2):
            url = await self._handle_url()
            try:
                reply = await self._core(url, {"janus": "message", "body": body})
            except SessionGone:
                self._session_id = self._handle_id = None
                if attempt == 2:
                    raise
                continue
            return _check_videoroom(reply)
        raise AssertionError("unreachable")

    # ---------------------------------------------------------------- health

    async def health(self) -> Health:
        try:
            async with self._client().get(f"{self.http_url}/info") as response:
                info = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise JanusUnavailable(f"Janus at {self.http_url} did not answer: {exc!r}") from exc
        if not isinstance(info, dict) or info.get("janus") != "server_info":
            raise JanusUnavailable("Janus info answer is not server_info")
        try:
            # "ping" needs no secret in Janus 1.1.2; get_status does, and is cheap.
            status = await self._admin({"janus": "get_status"})
            admin_ok = bool((status.get("status") or {}).get("token_auth"))
        except JanusError:
            admin_ok = False
        plugins = info.get("plugins") or {}
        return Health(
            version=str(info.get("version_string", "")),
            server_name=str(info.get("server-name", "")),
            videoroom_loaded=VIDEOROOM_PLUGIN in plugins,
            admin_ok=admin_ok,
        )

    # ----------------------------------------------------------------- rooms

    async def create_room(
        self,
        room: str,
        *,
        secret: str,
        description: str,
        publishers: int,
        allowed: list[str],
        audiolevel_event: bool = False,
    ) -> None:
        """Create a lesson room. Only our server can: it needs the admin_key.

        The room is private (not listed), checks tokens (``allowed``), requires
        subscribers to prove a publisher's private id, tells everyone about
        joins (``notify_joining``, so the server sees attendees who do not
        publish), and only lets the holder of the secret start or stop
        recording (``lock_record``). Its ``rec_dir`` is parked until
        :meth:`start_recording`.
        """
        _check_room_id(room)
        await self._videoroom(
            {
                "request": "create",
                "admin_key": self._admin_key,
                "room": room,
                "permanent": False,
                "description": description,
                "secret": secret,
                "is_private": True,
                "allowed": list(allowed),
                "require_pvtid": True,
                "notify_joining": True,
                "publishers": publishers,
                # Each publisher's bitrate cap (bits/s): bounds the bandwidth and the
                # disk a recording needs (RECORDING_BYTES_PER_PUBLISHER_MINUTE).
                "bitrate": ROOM_BITRATE,
                "record": False,
                "lock_record": True,
                "rec_dir": self.idle_record_dir,
                "audiolevel_event": audiolevel_event,
            }
        )

    async def exists(self, room: str) -> bool:
        data = await self._videoroom({"request": "exists", "room": room})
        return bool(data.get("exists"))

    async def destroy_room(self, room: str, secret: str) -> None:
        await self._videoroom(
            {"request": "destroy", "room": room, "secret": secret, "permanent": False}
        )

    async def list_participants(self, room: str) -> list[Participant]:
        data = await self._videoroom({"request": "listparticipants", "room": room})
        result = []
        for item in data.get("participants") or []:
            talking = item.get("talking")
            result.append(
                Participant(
                    id=str(item["id"]),
                    display=str(item.get("display", "")),
                    publisher=bool(item.get("publisher")),
                    talking=bool(talking) if talking is not None else None,
                )
            )
        return result

    # ---------------------------------------------------------------- access

    async def allow(self, room: str, secret: str, tokens: list[str]) -> list[str]:
        """Add tokens to the room's allowed list; returns the whole list."""
        return await self._allowed(room, secret, "add", tokens)

    async def disallow(self, room: str, secret: str, tokens: list[str]) -> list[str]:
        """Remove tokens from the room's allowed list; returns the whole list."""
        return await self._allowed(room, secret, "remove", tokens)

    async def _allowed(self, room: str, secret: str, action: str, tokens: list[str]) -> list[str]:
        data = await self._videoroom(
            {
                "request": "allowed",
                "room": room,
                "secret": secret,
                "action": action,
                "allowed": list(tokens),
            }
        )
        return [str(token) for token in data.get("allowed") or []]

    async def add_token(self, token: str) -> None:
        """Store a core token that can use the VideoRoom plugin and nothing else.

        Tokens live in Janus' memory only: after a Janus restart they (and the
        rooms) are gone and must be re-created by our server.
        """
        data = await self._admin(
            {"janus": "add_token", "token": token, "plugins": [VIDEOROOM_PLUGIN]}
        )
        granted = (data.get("data") or {}).get("plugins")
        if granted != [VIDEOROOM_PLUGIN]:
            raise JanusError(f"add_token granted {granted!r}, not the VideoRoom plugin")

    async def remove_token(self, token: str) -> None:
        """Revoke a core token: requests carrying it are refused from now on.

        Janus 1.1.2 answers 490 "Error removing token" for an unknown token;
        that is raised as TokenNotFound. Media already flowing is NOT stopped:
        kick the participant for that.
        """
        try:
            await self._admin({"janus": "remove_token", "token": token})
        except JanusError as exc:
            if exc.code in (470, 490):
                raise TokenNotFound(exc.reason, code=exc.code) from exc
            raise

    # -------------------------------------------------------------- sessions

    async def sessions_with_token(self, token: str) -> list[int]:
        """The Janus sessions with a handle attached with this core token."""
        return await self.sessions_with_tokens([token])

    async def _handles_with_tokens(self, tokens: Collection[str]) -> list[tuple[int, JSON]]:
        """``(session_id, handle_info)`` for every handle attached with one of these core
        tokens (admin ``list_sessions`` → ``list_handles`` → ``handle_info``).

        Janus 1.1.2's ``handle_info`` names the token each handle was attached with (our
        own handles, attached with the api secret, have none), so this works without any
        event from Janus. It costs one admin request per session and one per handle;
        sessions and handles that disappear meanwhile are skipped."""
        wanted = set(tokens)
        listed = await self._admin({"janus": "list_sessions"})
        sessions = [int(s) for s in listed.get("sessions") or [] if s != self._session_id]
        limit = asyncio.Semaphore(8)

        async def matching(session_id: int) -> list[tuple[int, JSON]]:
            async with limit:
                try:
                    reply = await self._admin({"janus": "list_handles", "session_id": session_id})
                except SessionGone:
                    return []
                found = []
                for handle_id in reply.get("handles") or []:
                    body = {
                        "janus": "handle_info",
                        "session_id": session_id,
                        "handle_id": handle_id,
                    }
                    try:
                        info = (await self._admin(body)).get("info") or {}
                    except SessionGone:
                        continue
                    if info.get("token") in wanted:
                        found.append((session_id, info))
                return found

        per_session = await asyncio.gather(*(matching(s) for s in sessions))
        return [hit for hits in per_session for hit in hits]

    async def sessions_with_tokens(self, tokens: Collection[str]) -> list[int]:
        """The Janus sessions with a handle attached with one of these core tokens."""
        return sorted({session_id for session_id, _info in
                       await self._handles_with_tokens(tokens)})

    async def publisher_streams(self, token: str,
                                participant_id: str) -> list[dict[str, Any]] | None:
        """The streams Janus holds for this publisher — ``[{"type": "audio"|"video",
        "mid": ...}, ...]`` from admin ``handle_info`` — found through the core token its
        handle was attached with; None if no such publisher handle exists.

        This is Janus' own view, so a client cannot hide a second audio or video track
        by reporting only one (the VideoRoom events carry no stream list)."""
        for _session_id, info in await self._handles_with_tokens([token]):
            plugin = info.get("plugin_specific") or {}
            if plugin.get("type") == "publisher" and str(plugin.get("id")) == participant_id:
                streams = plugin.get("streams") or []
                return [s for s in streams if isinstance(s, dict)]
        return None

    async def destroy_session(self, session_id: int) -> None:
        """Destroy a Janus session (admin API): all its handles are detached and
        their PeerConnections closed. Raises SessionGone if there is no such session."""
        if session_id == self._session_id:
            raise InvalidRequest("refusing to destroy our own Janus session")
        await self._admin({"janus": "destroy_session", "session_id": session_id})

    # ------------------------------------------------------------ moderation

    async def mute(self, room: str, secret: str, participant_id: str, mid: str, mute: bool) -> None:
        """Stop (or resume) forwarding one of a publisher's streams, at Janus.

        The participant cannot undo it: a self-unmute only clears their own mute.
        """
        await self._videoroom(
            {
                "request": "moderate",
                "room": room,
                "secret": secret,
                "id": participant_id,
                "mid": mid,
                "mute": mute,
            }
        )

    async def kick(self, room: str, secret: str, participant_id: str) -> None:
        """Kick a participant out of the room. Does NOT ban: see remove_participant."""
        await self._videoroom(
            {"request": "kick", "room": room, "secret": secret, "id": participant_id}
        )

    # -------------------------------------------------------------- recording

    async def start_recording(self, room: str, secret: str, *, record_dir: str) -> None:
        """Point the room at record_dir, then record every publisher in it."""
        if not record_dir.startswith("/"):
            raise InvalidRequest("record_dir must be an absolute path on the Janus host")
        await self._videoroom(
            {"request": "edit", "room": room, "secret": secret, "new_rec_dir": record_dir}
        )
        await self._videoroom(
            {"request": "enable_recording", "room": room, "secret": secret, "record": True}
        )

    async def stop_recording(self, room: str, secret: str) -> None:
        """Stop recording, then park the room's rec_dir again."""
        await self._videoroom(
            {"request": "enable_recording", "room": room, "secret": secret, "record": False}
        )
        await self._videoroom(
            {
                "request": "edit",
                "room": room,
                "secret": secret,
                "new_rec_dir": self.idle_record_dir,
            }
        )

    async def room_info(self, room: str) -> JSON:
        """The room's settings as Janus reports them (``list`` with the admin key)."""
        data = await self._videoroom({"request": "list", "admin_key": self._admin_key})
        for item in data.get("list") or []:
            if isinstance(item, dict) and item.get("room") == room:
                return item
        raise RoomNotFound(f"No such room ({room})", code=426)


def _check_room_id(room: str) -> None:
    if len(room) < ROOM_ID_HEX_CHARS or not all(c in "0123456789abcdef" for c in room):
        raise InvalidRequest(
            f"room ids must be at least {ROOM_ID_HEX_CHARS} lowercase hex characters"
        )


def _check_core(reply: JSON) -> JSON:
    kind = reply.get("janus")
    if kind == "error":
        error = reply.get("error") or {}
        code = error.get("code")
        raise core_error(code if isinstance(code, int) else None, str(error.get("reason", "")))
    if kind not in ("success", "ack", "pong", "server_info"):
        raise JanusError(f"unexpected Janus reply {kind!r}")
    return reply


def _check_videoroom(reply: JSON) -> JSON:
    plugindata = reply.get("plugindata") or {}
    data = plugindata.get("data")
    if not isinstance(data, dict):
        raise JanusError("VideoRoom reply without plugin data")
    if "error_code" in data or "error" in data:
        code = data.get("error_code")
        raise videoroom_error(code if isinstance(code, int) else None, str(data.get("error", "")))
    return data
