"""The error hierarchy: every message tells the user what went wrong and what to do next.

    TickwindowsError              the CLI prints "error: <message>" and exits with `exit_code`
    ├── BadInput (2)              input files or options that break the contract
    ├── GateClosed (3)            no current GO verdict for the manifest
    └── ApiError (4)              the HTTP API did not deliver what was asked
        ├── RetryableError        the same request may pass if sent again later
        │   └── RateLimited       HTTP 429
        ├── PermanentError        a refusal that retrying cannot fix (401/403/404, other 4xx)
        └── PaginationError       the cursor chain cannot be trusted; `retryable` says whether
                                  restarting the window from page 1 may help
"""

from __future__ import annotations


class TickwindowsError(Exception):
    """Base class; the CLI prints the message and exits non-zero without a traceback."""

    exit_code = 1


class BadInput(TickwindowsError):
    """Input files or options that break the contract (names the file, column and value)."""

    exit_code = 2


class GateClosed(TickwindowsError):
    """The latest gate verdict is not a GO for the manifest as it is now."""

    exit_code = 3


class ApiError(TickwindowsError):
    """The HTTP API did not deliver what was asked.

    The subclasses say whether retrying may help; ApiError itself is raised when a run stops
    before a request could be answered.
    """

    exit_code = 4


class RetryableError(ApiError):
    """A failure that may pass if the same request is sent again later (429, 5xx, resets,
    truncated or malformed bodies, inconsistent pages)."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RateLimited(RetryableError):
    """HTTP 429: the server wants us to slow down."""


class PermanentError(ApiError):
    """A refusal that retrying cannot fix (401/403/404, other 4xx, a refused API key)."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def key_refused(self) -> bool:
        """401: every other request with this key fails the same way (a 403 may be one dataset only)."""
        return self.status == 401


class PaginationError(ApiError):
    """The cursor chain cannot be trusted (loop, page cap, next_url to another origin).

    `retryable`: whether fetching the window again from page 1 may succeed (a repeated next_url
    may be a transient server fault; a page cap or a foreign origin will not go away).
    """

    def __init__(self, message: str, *, retryable: bool):
        super().__init__(message)
        self.retryable = retryable
