"""Errors that reach the user as a clear message instead of a traceback."""


class AirshiftError(Exception):
    """A failure the user can act on. The CLI prints its message and exits with code 2."""


def environment_failure(error: BaseException) -> str | None:
    """A one-line message for a failure the user's machine or servers caused (a file that cannot be
    read or written, a database or server that cannot be reached), or None for a bug in airshift.
    The CLI's last line of defence uses it so such failures never read as "internal error"."""
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return f"{where}{error.strerror or error}"
    kind = type(error)
    module = kind.__module__.split(".")[0]
    if module == "sqlalchemy" and kind.__name__ in ("OperationalError", "InterfaceError"):
        cause = getattr(error, "orig", None) or error
        return f"database: {str(cause).strip().splitlines()[0] if str(cause).strip() else kind.__name__}"
    if module == "httpx" and any(base.__name__ == "TransportError" for base in kind.__mro__):
        return f"cannot reach the server: {error}"
    return None
