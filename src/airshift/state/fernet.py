"""Airflow's Fernet encryption: decrypt source values with the source key list (MultiFernet).

Keys come from a file (`--from-fernet-key-file`) or an environment variable, never from the command line.
The file holds Airflow's `fernet_key` setting: one or more keys separated by commas (or newlines); like
Airflow, any of them may decrypt a value (rotation leaves a mix of old and new ciphertexts).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from airshift.errors import AirshiftError
from airshift.redaction import remember

SOURCE_KEY_ENV = "AIRSHIFT_FROM_FERNET_KEY"


class Decryptor:
    """Decrypts Airflow ciphertexts; a missing key list turns any encrypted value into a clear error."""

    def __init__(self, keys: list[str], origin: str) -> None:
        self.origin = origin
        self._fernet: MultiFernet | None = None
        if keys:
            fernets: list[Fernet] = []
            for position, key in enumerate(keys, start=1):
                remember(key)
                try:
                    fernets.append(Fernet(key.encode("ascii")))
                except (ValueError, UnicodeEncodeError):
                    # Never echo the key: say which one in the list is malformed.
                    raise AirshiftError(
                        f"{origin}: key #{position} is not a valid Fernet key "
                        "(32 url-safe base64-encoded bytes)"
                    ) from None
            self._fernet = MultiFernet(fernets)

    @property
    def has_keys(self) -> bool:
        return self._fernet is not None

    def decrypt(self, ciphertext: str, what: str) -> str:
        if self._fernet is None:
            raise AirshiftError(
                f"{what} is encrypted but no source Fernet key was given "
                f"(--from-fernet-key-file FILE or ${SOURCE_KEY_ENV})"
            )
        try:
            return self._fernet.decrypt(ciphertext.encode("utf-8")).decode("utf-8")
        except InvalidToken:
            raise AirshiftError(
                f"{what} cannot be decrypted with the key(s) from {self.origin} "
                "(wrong key, or a key missing from the list after a rotation)"
            ) from None
        except UnicodeDecodeError:
            raise AirshiftError(f"{what} decrypts to bytes that are not UTF-8 text") from None


def parse_key_list(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def load_decryptor(key_file: Path | None, env: dict[str, str] | None = None) -> Decryptor:
    """Keys from `key_file` if given, else from $AIRSHIFT_FROM_FERNET_KEY, else none (plaintext DBs)."""
    environ = os.environ if env is None else env
    if key_file is not None:
        try:
            text = key_file.read_text(encoding="utf-8")
        except OSError as error:
            raise AirshiftError(
                f"cannot read Fernet key file {key_file}: {error.strerror or error}"
            ) from None
        except UnicodeDecodeError:
            raise AirshiftError(f"Fernet key file {key_file} is not UTF-8 text") from None
        keys = parse_key_list(text)
        if not keys:
            raise AirshiftError(f"Fernet key file {key_file} holds no key")
        return Decryptor(keys, str(key_file))
    from_env = environ.get(SOURCE_KEY_ENV, "")
    if from_env.strip():
        return Decryptor(parse_key_list(from_env), f"${SOURCE_KEY_ENV}")
    return Decryptor([], "no key")
