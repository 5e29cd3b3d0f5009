"""Where a Client's token comes from, from Python: a provider callable, the
workspace secret (tokens the library signs, checked here with PyJWT, an
implementation independent of the library's libcrypto code), a private key,
and the environment. No token or secret is ever put in an assertion message."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import membrane
from conftest import REPO, TOKEN, MockServer, running_mock

WORKSPACE = "wk-py"
SECRET = secrets.token_hex(32)


@pytest.fixture(scope="module")
def signing_mock() -> Iterator[MockServer]:
    """A stand-in that also accepts JWTs for WORKSPACE signed with SECRET."""
    with running_mock(TOKEN, ["--workspace-key", WORKSPACE, "--workspace-secret", SECRET]) as server:
        yield server


class Recorder(BaseHTTPRequestHandler):
    """Answers every GET with one integration and keeps the Authorization headers."""

    seen: List[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        Recorder.seen.append(self.headers.get("Authorization", ""))
        body = json.dumps({"id": "i1", "key": "k", "name": "Recorded"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def bearer(header: str) -> str:
    assert header.startswith("Bearer "), "no bearer token sent"
    return header[len("Bearer "):]


# -- signed tokens, checked by PyJWT ------------------------------------------------


def test_signed_tokens_verify_with_pyjwt(recorder: str) -> None:
    with membrane.Client(recorder, workspace_key=WORKSPACE, workspace_secret=SECRET,
                         tenant_key="tenant-7") as client:
        assert client.integration("k")["name"] == "Recorded"
    claims = jwt.decode(bearer(Recorder.seen[0]), SECRET, algorithms=["HS512"])
    assert jwt.get_unverified_header(bearer(Recorder.seen[0]))["alg"] == "HS512"
    assert claims["workspaceKey"] == WORKSPACE and claims["tenantKey"] == "tenant-7"
    assert "isAdmin" not in claims
    assert claims["exp"] - claims["iat"] in (7200, 7201)
    assert abs(claims["iat"] - time.time()) < 5
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(bearer(Recorder.seen[0]), "another-secret-" * 5, algorithms=["HS512"])


def test_admin_hs256_and_lifetime(recorder: str) -> None:
    with membrane.Client(recorder, token="unused-token-value", token_lifetime_s=300) as client:
        client.use_workspace_secret(WORKSPACE, SECRET, hs256=True)
        client.integration("k")
    claims = jwt.decode(bearer(Recorder.seen[0]), SECRET, algorithms=["HS256"])
    assert claims["isAdmin"] is True and "tenantKey" not in claims
    assert claims["exp"] - claims["iat"] in (300, 301)


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_private_keys_sign_es256_and_rs256(recorder: str, tmp_path: Path, kind: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else rsa.generate_private_key(65537, 2048)
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    with membrane.Client(recorder, token="unused-token-value") as client:
        client.use_private_key(WORKSPACE, pem, tenant_key="tenant-k")
        client.integration("k")
    algorithm = "ES256" if kind == "ec" else "RS256"
    claims = jwt.decode(bearer(Recorder.seen[0]), key.public_key(), algorithms=[algorithm])
    assert claims["tenantKey"] == "tenant-k" and claims["workspaceKey"] == WORKSPACE


# -- against the stand-in, which verifies them ----------------------------------------


def test_signed_tokens_against_the_stand_in(signing_mock: MockServer) -> None:
    with membrane.Client(signing_mock.url, workspace_key=WORKSPACE, workspace_secret=SECRET,
                         tenant_key="t1") as client:
        assert client.integration("hubspot")["key"] == "hubspot"
        with pytest.raises(membrane.AccessDenied):
            client.integration("hubspot", include_secrets=True)  # a tenant token may not
        assert SECRET not in repr(client) and SECRET not in str(vars(client))
    with membrane.Client(signing_mock.url, workspace_key=WORKSPACE, workspace_secret=SECRET) as admin:
        admin.integration("hubspot", include_secrets=True)
    assert signing_mock.last_request()["claims"]["isAdmin"] is True


def test_wrong_secret_fails_after_exactly_two_attempts(signing_mock: MockServer) -> None:
    signing_mock.reset()
    with membrane.Client(signing_mock.url, workspace_key=WORKSPACE, workspace_secret="not-it-" + "0" * 20,
                         tenant_key="t1") as client:
        with pytest.raises(membrane.NotAuthenticated) as info:
            client.integration("fm-wrong-secret")
    assert len([r for r in signing_mock.requests() if r.get("selector") == "fm-wrong-secret"]) == 2
    assert SECRET not in info.value.message and "not-it-" not in info.value.message


# -- providers -----------------------------------------------------------------------


def test_provider_is_asked_once_and_shared(mock: MockServer) -> None:
    calls: List[int] = []

    def provide() -> str:
        calls.append(1)
        return TOKEN

    # Eight requests waiting for the token (one shared request would trivially ask once).
    with membrane.Client(mock.url, token_provider=provide, share_requests=False) as client:
        assert calls == []
        threads = [threading.Thread(target=client.integration, args=("hubspot",)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        client.integration("salesforce")
    assert len(calls) == 1


def test_provider_exception_is_the_cause(mock: MockServer) -> None:
    class Backend(Exception):
        pass

    def provide() -> str:
        raise Backend("token service down")

    with membrane.Client(mock.url, token_provider=provide) as client:
        with pytest.raises(membrane.NotAuthenticated) as info:
            client.integration("hubspot")
    assert isinstance(info.value.__cause__, Backend)
    assert mock.requests() == []


@pytest.mark.parametrize("bad", ["", "a\nb", "x" * 20000, "nul\0inside", 42])
def test_provider_garbage_fails_cleanly(mock: MockServer, bad: Any) -> None:
    with membrane.Client(mock.url, token_provider=lambda: bad) as client:
        with pytest.raises(membrane.NotAuthenticated):
            client.integration("hubspot")
    assert mock.requests() == []


def test_set_token_replaces_it(mock: MockServer) -> None:
    with membrane.Client(mock.url, "wrong-token-py-77") as client:
        with pytest.raises(membrane.NotAuthenticated):
            client.integration("hubspot")
        client.set_token(TOKEN)
        assert client.integration("hubspot")["key"] == "hubspot"
        with pytest.raises(membrane.InvalidArgument):
            client.set_token("a\rb")


# -- the environment -----------------------------------------------------------------


def test_workspace_credentials_from_the_environment(signing_mock: MockServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMBRANE_") or k == "MEMBRANE_LIBRARY"}
    env.update(MEMBRANE_API_URL=signing_mock.url, MEMBRANE_WORKSPACE_KEY=WORKSPACE,
               MEMBRANE_WORKSPACE_SECRET=SECRET, MEMBRANE_TENANT_KEY="tenant-env",
               PYTHONPATH=str(REPO / "python"))
    code = "import membrane; print(membrane.Client().integration('hubspot')['key'])"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "hubspot", "the lookup failed"
    assert SECRET not in result.stdout + result.stderr
    assert signing_mock.last_request()["claims"]["tenantKey"] == "tenant-env"
