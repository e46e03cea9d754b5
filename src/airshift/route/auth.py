"""Who may call the router: bearer tokens from a file, users with bcrypt password hashes from an
htpasswd-style file, and OIDC ID tokens (Pub/Sub push, IAP) verified offline against a JWKS or PEM file
and an audience. Nobody else, unless anonymous access is switched on.

Files are re-read when they change (a new token or rotated key needs no restart). No secret and no
hash ever reaches a message or a log line: callers are named by a label, a user name or an email."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from airshift.errors import AirshiftError

GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
T = TypeVar("T")


@dataclass(frozen=True)
class Caller:
    """An authenticated caller, named for logs (never by a secret)."""

    name: str
    method: str


class AuthFailure(Exception):
    """Missing or wrong credentials; the message says which kind, never a value."""


class WatchedFile(Generic[T]):
    """A file parsed once and again whenever its modification time or size changes."""

    def __init__(self, path: Path, parse: Callable[[str, Path], T]) -> None:
        self.path = path
        self._parse = parse
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._value: T | None = None
        self.get()  # fail at start-up, not at the first request

    def get(self) -> T:
        try:
            info = self.path.stat()
        except OSError as error:
            raise AirshiftError(f"cannot read {self.path}: {error.strerror or error}") from None
        stamp = (info.st_mtime_ns, info.st_size)
        with self._lock:
            if stamp != self._stamp or self._value is None:
                try:
                    text = self.path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as error:
                    raise AirshiftError(f"cannot read {self.path}: {error}") from None
                self._value = self._parse(text, self.path)
                self._stamp = stamp
            return self._value


def _lines(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.strip().startswith("#")
    ]


def parse_tokens(text: str, path: Path) -> dict[bytes, str]:
    """Token file: one token per line, optionally preceded by a label and a space (`ci-scheduler
    TOKEN`); `#` starts a comment line. Kept as SHA-256 digests, compared in constant time."""
    tokens: dict[bytes, str] = {}
    for number, line in _lines(text):
        parts = line.split()
        if len(parts) > 2:
            raise AirshiftError(f"{path} line {number}: expected 'TOKEN' or 'LABEL TOKEN'")
        label, token = (parts[0], parts[1]) if len(parts) == 2 else (f"token line {number}", parts[0])
        if len(token) < 16:
            raise AirshiftError(f"{path} line {number}: the token is shorter than 16 characters")
        tokens[hashlib.sha256(token.encode()).digest()] = label
    if not tokens:
        raise AirshiftError(f"{path} holds no token")
    return tokens


def parse_htpasswd(text: str, path: Path) -> dict[str, bytes]:
    """`user:bcrypt-hash` lines, as `htpasswd -nbB user password` prints them. Other hash kinds (MD5,
    crypt, SHA-1) and plain text are refused: they are weak, and a plain password must not sit in a file
    the router reads."""
    users: dict[str, bytes] = {}
    for number, line in _lines(text):
        user, sep, hashed = line.partition(":")
        if not sep or not user:
            raise AirshiftError(f"{path} line {number}: expected 'user:bcrypt-hash'")
        if not hashed.startswith(_BCRYPT_PREFIXES):
            raise AirshiftError(
                f"{path} line {number} (user {user!r}): not a bcrypt hash; make one with "
                "`htpasswd -nbB USER PASSWORD` or `airshift route hash-password`"
            )
        # bcrypt libraries read $2y$ (Apache's name) as $2b$: same algorithm.
        users[user] = ("$2b$" + hashed[4:]).encode()
    if not users:
        raise AirshiftError(f"{path} holds no user")
    return users


def hash_password(password: str) -> str:
    """A bcrypt hash for the password file."""
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


@dataclass
class PasswordCheck:
    """bcrypt is slow on purpose (tens of ms); a caller sending the same right password on every
    request is checked once, then found by a digest of user and password in memory."""

    file: WatchedFile[dict[str, bytes]]
    _good: set[bytes] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, user: str, password: str) -> bool:
        import bcrypt

        users = self.file.get()
        hashed = users.get(user)
        if hashed is None:
            return False
        key = hashlib.sha256(hashed + b"\0" + user.encode() + b"\0" + password.encode()).digest()
        with self._lock:
            if key in self._good:
                return True
        try:
            ok = bcrypt.checkpw(password.encode(), hashed)
        except ValueError:
            return False
        if ok:
            with self._lock:
                if len(self._good) > 4096:
                    self._good.clear()
                self._good.add(key)
        return ok


def parse_keys(text: str, path: Path) -> dict[str | None, Any]:
    """Public keys by key id from a JWKS (`{"keys": [...]}`), a JSON map of key id to PEM certificate
    (Google's v1 certs format), or a PEM public key or certificate (key id None: any token)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from jwt import PyJWKSet
    from jwt.exceptions import PyJWKError, PyJWKSetError

    def pem_key(pem: str) -> Any:
        data = pem.encode()
        if b"BEGIN CERTIFICATE" in data:
            return x509.load_pem_x509_certificate(data).public_key()
        return load_pem_public_key(data)

    stripped = text.strip()
    try:
        if stripped.startswith("{"):
            document = json.loads(stripped)
            if isinstance(document, dict) and "keys" in document:
                return {key.key_id: key.key for key in PyJWKSet.from_dict(document).keys}
            if isinstance(document, dict) and all(isinstance(v, str) for v in document.values()):
                return {kid: pem_key(pem) for kid, pem in document.items()}
            raise ValueError("neither a JWKS nor a map of key ids to PEM certificates")
        return {None: pem_key(stripped)}
    except (ValueError, TypeError, PyJWKError, PyJWKSetError) as error:
        raise AirshiftError(f"{path}: no usable public key ({str(error).splitlines()[0][:120]})") from None


@dataclass
class OidcCheck:
    """Offline verification of an RS256/ES256 ID token: signature by a configured key, `aud` among the
    audiences, `iss` among the issuers, not expired; optionally `email` among the allowed ones and
    verified (for Pub/Sub: the push subscription's service account)."""

    keys: WatchedFile[dict[str | None, Any]]
    audiences: Sequence[str]
    issuers: Sequence[str] = GOOGLE_ISSUERS
    emails: Sequence[str] = ()
    leeway: float = 60.0

    def verify(self, token: str) -> str:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthFailure("the bearer token is not a valid JWT") from None
        keys = self.keys.get()
        key = keys.get(header.get("kid")) or keys.get(None)
        if key is None and len(keys) == 1 and header.get("kid") is None:
            key = next(iter(keys.values()))
        if key is None:
            raise AuthFailure("the ID token is signed by an unknown key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256", "ES256"],
                audience=list(self.audiences),
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthFailure("the ID token has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthFailure("the ID token is for another audience") from None
        except jwt.PyJWTError:
            raise AuthFailure("the ID token's signature or claims are invalid") from None
        if claims.get("iss") not in self.issuers:
            raise AuthFailure("the ID token comes from another issuer")
        email = claims.get("email")
        if self.emails and (email not in self.emails or claims.get("email_verified") is not True):
            raise AuthFailure("the ID token's email is not allowed")
        return str(email or claims.get("sub") or "unknown")


@dataclass
class Authenticator:
    tokens: WatchedFile[dict[bytes, str]] | None = None
    passwords: PasswordCheck | None = None
    oidc: OidcCheck | None = None
    allow_anonymous: bool = False

    def __post_init__(self) -> None:
        if not (self.tokens or self.passwords or self.oidc or self.allow_anonymous):
            raise AirshiftError(
                "no way to authenticate callers: give --tokens-file, --htpasswd or --oidc-audience with "
                "--oidc-keys (or --allow-anonymous for a closed network)"
            )

    def authenticate(self, authorization: str | None) -> Caller:
        if not authorization:
            if self.allow_anonymous:
                return Caller("anonymous", "anonymous")
            raise AuthFailure("credentials are required (Authorization: Bearer or Basic)")
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and value:
            return self._bearer(value)
        if scheme.lower() == "basic" and value:
            return self._basic(value)
        raise AuthFailure("unsupported Authorization scheme (use Bearer or Basic)")

    def _bearer(self, token: str) -> Caller:
        if self.tokens is not None:
            label = self._token_label(token)
            if label is not None:
                return Caller(label, "token")
        if self.oidc is not None and token.count(".") == 2:
            return Caller(self.oidc.verify(token), "oidc")
        raise AuthFailure("the bearer token is not accepted")

    def _token_label(self, token: str) -> str | None:
        assert self.tokens is not None
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        for known, label in self.tokens.get().items():
            if hmac.compare_digest(known, digest):
                found = label
        return found

    def _basic(self, value: str) -> Caller:
        import base64
        import binascii

        if self.passwords is None:
            raise AuthFailure("basic auth is not configured on this router")
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):
            raise AuthFailure("malformed basic auth header") from None
        if not sep or not self.passwords.check(user, password):
            raise AuthFailure("wrong user name or password")
        return Caller(user, "basic")
