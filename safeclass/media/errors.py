"""Typed errors for everything Janus can answer with.

Janus reports failures at two levels: the core (``{"janus": "error", "error":
{"code": ..., "reason": ...}}``, codes 4xx from ``apierror.h``) and the VideoRoom
plugin (a successful core reply whose plugin data carries ``error_code`` and
``error``, codes 421-437 and 499). Both are mapped here to one hierarchy so the
rest of SafeClass never looks at a Janus error number.
"""

from __future__ import annotations


class JanusError(Exception):
    """Base class: Janus refused the request or could not be reached."""

    def __init__(self, reason: str, *, code: int | None = None) -> None:
        super().__init__(f"{reason} (Janus error {code})" if code is not None else reason)
        self.reason = reason
        self.code = code


class JanusUnavailable(JanusError):
    """Janus did not answer (connection refused, timeout, not JSON)."""


class Unauthorized(JanusError):
    """Wrong or missing api secret / token / admin secret / room secret / admin key."""


class PluginNotAllowed(Unauthorized):
    """The core token is not allowed to use this plugin (core 405)."""


class TokenNotFound(JanusError):
    """remove_token for a token Janus does not hold."""


class SessionGone(JanusError):
    """The Janus session or handle no longer exists (timed out, Janus restarted)."""


class PluginNotFound(JanusError):
    """The plugin is not loaded (we disable every plugin but the VideoRoom)."""


class InvalidRequest(JanusError):
    """Janus did not understand the request (a bug on our side)."""


class MissingElement(InvalidRequest):
    """A mandatory field was missing (VideoRoom 429)."""


class InvalidElement(InvalidRequest):
    """A field had a bad value or type (VideoRoom 430)."""


class RoomNotFound(JanusError):
    """No such room (VideoRoom 426)."""


class RoomExists(JanusError):
    """A room with that id already exists (VideoRoom 427)."""


class ParticipantNotFound(JanusError):
    """No such participant or stream in the room (VideoRoom 428)."""


class PublishersFull(JanusError):
    """The room's publisher limit is reached (VideoRoom 432)."""


class AlreadyJoined(JanusError):
    """The handle already joined a room (VideoRoom 425)."""


class NotJoined(JanusError):
    """The handle must join a room first (VideoRoom 424)."""


class ParticipantIdExists(JanusError):
    """The participant id is taken (VideoRoom 436)."""


class InvalidSdp(JanusError):
    """The SDP offer or answer was rejected (core 464/465, VideoRoom 431/437)."""


CORE_ERRORS: dict[int, type[JanusError]] = {
    403: Unauthorized,
    405: PluginNotAllowed,
    452: InvalidRequest,
    453: InvalidRequest,
    454: InvalidRequest,
    455: InvalidRequest,
    456: InvalidRequest,
    457: InvalidRequest,
    458: SessionGone,
    459: SessionGone,
    460: PluginNotFound,
    464: InvalidSdp,
    465: InvalidSdp,
    467: InvalidRequest,
    470: TokenNotFound,
}

VIDEOROOM_ERRORS: dict[int, type[JanusError]] = {
    421: InvalidRequest,
    422: InvalidRequest,
    423: InvalidRequest,
    424: NotJoined,
    425: AlreadyJoined,
    426: RoomNotFound,
    427: RoomExists,
    428: ParticipantNotFound,
    429: MissingElement,
    430: InvalidElement,
    431: InvalidSdp,
    432: PublishersFull,
    433: Unauthorized,
    436: ParticipantIdExists,
    437: InvalidSdp,
}


def core_error(code: int | None, reason: str) -> JanusError:
    cls = CORE_ERRORS.get(code, JanusError) if code is not None else JanusError
    return cls(reason, code=code)


def videoroom_error(code: int | None, reason: str) -> JanusError:
    cls = VIDEOROOM_ERRORS.get(code, JanusError) if code is not None else JanusError
    return cls(reason, code=code)
