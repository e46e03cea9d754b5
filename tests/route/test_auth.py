"""Caller authentication: token files, bcrypt password files, offline OIDC (RSA keys made here)."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import bcrypt
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from airshift.errors import AirshiftError
from airshift.route.auth import (
    Authenticator,
    AuthFailure,
    OidcCheck,
    PasswordCheck,
    WatchedFile,
    parse_htpasswd,
    parse_keys,
    parse_tokens,
)

TOKEN = "t0ken-for-the-scheduler-0123456789"
AUDIENCE = "https://router.example.test/pubsub"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


_KEYS: list[rsa.RSAPrivateKey] = []


def rsa_key(index: int) -> rsa.RSAPrivateKey:
    """The index-th test key, made once per session (RSA key generation is slow)."""
    while len(_KEYS) <= index:
        _KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _KEYS[index]


def jwks(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**public, "kid": kid, "use": "sig", "alg": "RS256"}]}


def id_token(key: rsa.RSAPrivateKey, kid: str | None = "k1", **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": "https://accounts.google.com", "aud": AUDIENCE, "iat": now, "exp": now + 600,
               "email": "push@p.iam.gserviceaccount.com", "email_verified": True, "sub": "1"}  # fmt: skip
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid} if kid else None)


@pytest.fixture
def key() -> rsa.RSAPrivateKey:
    return rsa_key(0)


@pytest.fixture
def oidc(tmp_path: Path, key: rsa.RSAPrivateKey) -> OidcCheck:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks(key, "k1")))
    return OidcCheck(WatchedFile(path, parse_keys), [AUDIENCE], emails=["push@p.iam.gserviceaccount.com"])


@pytest.fixture
def auth(tmp_path: Path, oidc: OidcCheck) -> Authenticator:
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# callers\nscheduler {TOKEN}\n")
    users = tmp_path / "htpasswd"
    hashed = bcrypt.hashpw(b"s3cret-pass", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$")
    users.write_text(f"alice:{hashed}\n")
    return Authenticator(
        tokens=WatchedFile(tokens, parse_tokens),
        passwords=PasswordCheck(WatchedFile(users, parse_htpasswd)),
        oidc=oidc,
    )


def test_token_basic_and_oidc_callers(auth: Authenticator, key: rsa.RSAPrivateKey) -> None:
    assert auth.authenticate(f"Bearer {TOKEN}").name == "scheduler"
    assert auth.authenticate(basic("alice", "s3cret-pass")).name == "alice"
    assert auth.authenticate(basic("alice", "s3cret-pass")).method == "basic"  # from the cache, same answer
    caller = auth.authenticate(f"Bearer {id_token(key)}")
    assert (caller.name, caller.method) == ("push@p.iam.gserviceaccount.com", "oidc")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong-token-0123456789",
        "Digest x",
        "Basic !!!",
        basic("alice", "wrong"),
        basic("bob", "x"),
    ],
)
def test_refusals(auth: Authenticator, header: str | None) -> None:
    with pytest.raises(AuthFailure) as caught:
        auth.authenticate(header)
    assert "s3cret" not in str(caught.value) and TOKEN not in str(caught.value)


def test_oidc_claims_are_checked(auth: Authenticator, key: rsa.RSAPrivateKey) -> None:
    bad = [
        id_token(key, aud="https://elsewhere"),
        id_token(key, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        id_token(key, iss="https://evil.example"),
        id_token(key, email="other@x.iam.gserviceaccount.com"),
        id_token(key, email_verified=False),
        id_token(rsa_key(1)),  # right kid, wrong key
        id_token(key, kid="unknown"),
    ]
    for token in bad:
        with pytest.raises(AuthFailure):
            auth.authenticate(f"Bearer {token}")


def test_pem_public_key_file_verifies_tokens_without_kid(tmp_path: Path, key: rsa.RSAPrivateKey) -> None:
    pem = tmp_path / "key.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    check = OidcCheck(WatchedFile(pem, parse_keys), [AUDIENCE])
    assert check.verify(id_token(key, kid=None)) == "push@p.iam.gserviceaccount.com"


def test_rotated_keys_are_read_again_without_restart(tmp_path: Path, oidc: OidcCheck) -> None:
    new_key = rsa_key(2)
    with pytest.raises(AuthFailure):
        oidc.verify(id_token(new_key, kid="k2"))
    oidc.keys.path.write_text(json.dumps(jwks(new_key, "k2")))
    os.utime(oidc.keys.path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert oidc.verify(id_token(new_key, kid="k2"))


def test_plain_text_passwords_are_refused_without_quoting_them(tmp_path: Path) -> None:
    path = tmp_path / "htpasswd"
    path.write_text("alice:plain-secret-value\n")
    with pytest.raises(AirshiftError) as caught:
        WatchedFile(path, parse_htpasswd)
    assert "line 1" in str(caught.value) and "alice" in str(caught.value)
    assert "plain-secret-value" not in str(caught.value)


def test_short_tokens_and_empty_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("short\n")
    with pytest.raises(AirshiftError, match="shorter than 16"):
        WatchedFile(path, parse_tokens)
    path.write_text("# nothing\n")
    with pytest.raises(AirshiftError, match="holds no token"):
        WatchedFile(path, parse_tokens)


def test_missing_file_and_no_method_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(AirshiftError, match="cannot read"):
        WatchedFile(tmp_path / "absent", parse_tokens)
    with pytest.raises(AirshiftError, match="--allow-anonymous"):
        Authenticator()
    assert Authenticator(allow_anonymous=True).authenticate(None).name == "anonymous"


def test_bad_key_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text('{"keys": [{"kty": "nope"}]}')
    with pytest.raises(AirshiftError, match="no usable public key"):
        WatchedFile(path, parse_keys)
