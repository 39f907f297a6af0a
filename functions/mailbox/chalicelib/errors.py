"""The one exception type that handlers turn into a 4xx JSON answer."""


class ApiError(Exception):
    """A client error: HTTP status, a message, extra JSON fields and optional headers."""

    def __init__(self, status, message, headers=None, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def not_found(what="letter"):
    """404 for anything the caller does not own, so ids of other users' letters reveal nothing."""
    return ApiError(404, f"{what} not found")
