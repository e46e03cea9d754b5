"""A wrapper for secret strings so they cannot leak through printing, logging or repr by accident."""

from __future__ import annotations

from airshift.redaction import remember

MASK = "***"


class Secret:
    """Holds a secret value; `str()`/`repr()`/f-strings show a mask, `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember(value)  # masked in every line printed from now on, however it gets there

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    def __format__(self, _spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("airshift-secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the value to disk or a queue in clear; nothing in airshift needs it.
        raise TypeError("Secret values cannot be pickled")
