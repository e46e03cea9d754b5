"""`airshift route serve` as users run it (its own `airshift` process) for the live router tests
(tests/integration/test_route_airflow.py with a 2.11 old side, test_route_airflow110.py with a 1.10
one): credentials files, a Pub/Sub push signer, callers in the router's shapes, ownership switches in
the journal."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from airshift.cutover.journal import Journal
from tests.state.airflow_envs import free_port, stop_process_group

TOKEN = "route-integration-token-0123456789"
OPS_PASSWORD = "ops-password"
PUSH_SA = "push@project.iam.gserviceaccount.com"


@dataclass
class RouterProcess:
    """A running router: its address, the key Pub/Sub pushes are signed with, its log file."""

    url: str
    push_key: rsa.RSAPrivateKey
    log: Path

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {TOKEN}", **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=90, **kwargs)

    def push(
        self, message_id: str, attributes: dict[str, str], data: object = None, token: str | None = None
    ) -> httpx.Response:
        """A Pub/Sub push delivery: the envelope and an OIDC token signed for the push endpoint."""
        message: dict[str, Any] = {
            "messageId": message_id,
            "publishTime": "2026-05-04T10:20:00.123Z",
            "attributes": attributes,
        }
        if data is not None:
            message["data"] = base64.b64encode(json.dumps(data).encode()).decode()
        if token is None:
            now = int(time.time())
            claims = {"iss": "https://accounts.google.com", "aud": f"{self.url}/pubsub", "iat": now, "exp": now + 300,
                      "email": PUSH_SA, "email_verified": True, "sub": "1234"}  # fmt: skip
            token = jwt.encode(claims, self.push_key, algorithm="RS256", headers={"kid": "push-key"})
        body = {"message": message, "subscription": "projects/p/subscriptions/airflow-triggers"}
        return httpx.post(
            f"{self.url}/pubsub", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=90
        )


def switch_owner(journal: Journal, dag_id: str, side: str, wave: str = "first") -> None:
    """Switch ownership the way cutover does: an owner step in the journal."""
    journal.record_step(dag_id, "switched" if side == "new" else "returned", wave=wave, owner=side)  # type: ignore[arg-type]


def jwks(key: rsa.RSAPrivateKey) -> str:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return json.dumps({"keys": [{**public, "kid": "push-key", "alg": "RS256", "use": "sig"}]})


@contextmanager
def route_router(tmp: Path, plan_text: str) -> Iterator[RouterProcess]:
    """Write the plan (its journal path is relative to `tmp`), a token file, an htpasswd file and a
    JWKS, start `airshift route serve` on a free port of 127.0.0.1, and stop it afterwards."""
    import bcrypt

    (tmp / "plan.toml").write_text(plan_text, encoding="utf-8")
    (tmp / "tokens").write_text(f"scheduler {TOKEN}\n")
    hashed = bcrypt.hashpw(OPS_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    (tmp / "htpasswd").write_text(f"ops:{hashed}\n")
    push_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp / "jwks.json").write_text(jwks(push_key))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / "router.log"
    command = [
        sys.executable, "-m", "airshift", "route", "serve", "--plan", str(tmp / "plan.toml"), "--port", str(port),
        "--tokens-file", str(tmp / "tokens"), "--htpasswd", str(tmp / "htpasswd"),
        "--oidc-keys", str(tmp / "jwks.json"), "--oidc-audience", f"{url}/pubsub", "--oidc-email", PUSH_SA,
    ]  # fmt: skip
    with log.open("wb") as sink:
        router = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_router(url, router, log)
        yield RouterProcess(url, push_key, log)
    finally:
        stop_process_group(router, grace=10)


def wait_router(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"router exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if (
                httpx.get(
                    f"{url}/api/experimental/test", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2
                ).status_code
                == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"router not up:\n{log.read_text(errors='replace')[-3000:]}")
