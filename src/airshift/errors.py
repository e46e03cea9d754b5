"""Errors that reach the user as a clear message instead of a traceback."""


class AirshiftError(Exception):
    """A failure the user can act on. The CLI prints its message and exits with code 2."""
