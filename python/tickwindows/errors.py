"""The error hierarchy: every message tells the user what went wrong and what to do next."""


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
    """An HTTP API answered with an error that retrying will not fix."""

    exit_code = 4
