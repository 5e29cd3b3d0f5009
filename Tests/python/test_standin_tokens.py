"""The stand-in server's token checks (--workspace-key, --workspace-secret,
--public-key), as an outside client sees them: JWTs signed by PyJWT, an
implementation independent of the server's, are accepted or refused with the
API's 401 / 403 and a message that says why, and the request log records the
verified claims but never a token. Plain HTTP (urllib), no libmembrane.

Keys and the workspace secret are made afresh for each run; no token or secret
is ever put in an assertion message."""
from __future__ import annotations

import json
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

# PyJWT and cryptography: make test-deps installs them. Missing, this file
# fails to import rather than being skipped.
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import FIXTURES, REPO, TOKEN, MockServer, _mock_binary, running_mock

WORKSPACE = "wk-test"
SELECTOR = "hubspot"


# ---------------------------------------------------------------------------
# Keys, servers, requests
# ---------------------------------------------------------------------------


class Keys:
    """A workspace secret and PEM key pairs, written to a temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.secret = secrets.token_urlsafe(64)
        self.wrong_secret = secrets.token_urlsafe(64)
        self.ec_private, self.ec_public = self._pair(folder, "ec", ec.generate_private_key(ec.SECP256R1()))
        self.other_ec_private, _ = self._pair(folder, "other-ec", ec.generate_private_key(ec.SECP256R1()))
        self.rsa_private, self.rsa_public = self._pair(
            folder, "rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048))
        self.p384_private, self.p384_public = self._pair(folder, "p384", ec.generate_private_key(ec.SECP384R1()))

    @staticmethod
    def _pair(folder: Path, name: str, key: Any) -> Tuple[bytes, Path]:
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        public = folder / f"{name}.pub.pem"
        public.write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        return private, public


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("standin-keys"))


def _server_args(keys: Keys, public_key: Path) -> List[str]:
    return ["--workspace-key", WORKSPACE, "--workspace-secret", keys.secret, "--public-key", str(public_key)]


@pytest.fixture(scope="module")
def ec_server(keys: Keys) -> Iterator[MockServer]:
    """The stand-in with the workspace secret and the EC P-256 public key."""
    with running_mock(TOKEN, _server_args(keys, keys.ec_public)) as server:
        yield server


@pytest.fixture(scope="module")
def rsa_server(keys: Keys) -> Iterator[MockServer]:
    """The stand-in with the workspace secret and the RSA public key."""
    with running_mock(TOKEN, _server_args(keys, keys.rsa_public)) as server:
        yield server


@pytest.fixture
def server(ec_server: MockServer) -> MockServer:
    ec_server.reset()
    return ec_server


def claims(**extra: Any) -> Dict[str, Any]:
    """Tenant-token claims for the test workspace, valid for an hour."""
    now = int(time.time())
    base: Dict[str, Any] = {"workspaceKey": WORKSPACE, "tenantKey": "tenant-1", "name": "Tenant One",
                            "iat": now, "exp": now + 3600}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def sign(keys: Keys, algorithm: str, payload: Dict[str, Any], key: Any = None) -> str:
    if key is None:
        key = {"HS256": keys.secret, "HS512": keys.secret, "ES256": keys.ec_private,
               "RS256": keys.rsa_private}[algorithm]
    return jwt.encode(payload, key, algorithm=algorithm)


def request(server: MockServer, token: Optional[str], path: str = f"/integrations/{SELECTOR}",
            method: str = "GET") -> Tuple[int, Any, str]:
    """(status, parsed body or None, raw body text)."""
    req = urllib.request.Request(server.url + path, method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    text = raw.decode("utf-8", "replace")
    return status, (json.loads(text) if text.strip() else None), text


def leaked(text: str, *values: str) -> List[str]:
    """Which of `values` (tokens, secrets, signatures) appear in `text`, by index: never the values."""
    return [f"value #{i}" for i, value in enumerate(values) if value and value in text]


def refused(server: MockServer, token: str, keys: Keys) -> str:
    """Asserts a 401 not_authenticated that shows neither the token nor any part of it; its message."""
    status, body, text = request(server, token)
    assert status == 401 and body["key"] == "not_authenticated" and body["type"] == "bad_request", text
    parts = [p for p in token.split(".") if len(p) >= 8]
    assert not leaked(text, token, keys.secret, keys.wrong_secret, *parts)
    return body["message"]


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------
# Accepted tokens
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["HS256", "HS512", "ES256"])
def test_signed_tokens_are_accepted_and_their_claims_logged(server: MockServer, keys: Keys, algorithm: str) -> None:
    payload = claims()
    status, body, text = request(server, sign(keys, algorithm, payload))
    assert status == 200 and body["key"] == SELECTOR, text
    status, body, _ = request(server, sign(keys, algorithm, payload), "/integrations?limit=2")
    assert status == 200 and len(body["items"]) == 2
    log = server.requests()
    assert [r["authorized"] for r in log] == [True, True]
    assert log[0]["claims"] == payload and log[1]["claims"] == payload


def test_rs256_with_an_rsa_public_key(rsa_server: MockServer, keys: Keys) -> None:
    rsa_server.reset()
    payload = claims()
    status, body, text = request(rsa_server, sign(keys, "RS256", payload))
    assert status == 200 and body["key"] == SELECTOR, text
    assert rsa_server.last_request()["claims"] == payload
    # That server holds an RSA key: ES256 tokens cannot be checked there.
    assert "unsupported algorithm" in refused(rsa_server, sign(keys, "ES256", claims()), keys)
    status, _, _ = request(rsa_server, sign(keys, "HS512", claims()))
    assert status == 200


def test_older_tokens_name_the_workspace_in_iss(server: MockServer, keys: Keys) -> None:
    payload = claims(workspaceKey=None, iss=WORKSPACE)
    status, _, text = request(server, sign(keys, "HS512", payload))
    assert status == 200, text
    assert server.last_request()["claims"] == payload


def test_nbf_slightly_ahead_is_tolerated(server: MockServer, keys: Keys) -> None:
    status, _, text = request(server, sign(keys, "HS256", claims(nbf=int(time.time()) + 20)))
    assert status == 200, text


def test_the_fixed_token_still_works_and_logs_no_claims(server: MockServer) -> None:
    status, body, text = request(server, TOKEN)
    assert status == 200 and body["key"] == SELECTOR, text
    entry = server.last_request()
    assert entry["authorized"] is True and entry["claims"] is None


# ---------------------------------------------------------------------------
# Refused tokens
# ---------------------------------------------------------------------------


def test_wrong_secret_is_a_bad_signature(server: MockServer, keys: Keys) -> None:
    token = sign(keys, "HS256", claims(), key=keys.wrong_secret)
    assert refused(server, token, keys) == "bad signature"
    entry = server.last_request()
    assert entry["authorized"] is False and entry["claims"] is None


def test_es256_signed_with_another_key_is_a_bad_signature(server: MockServer, keys: Keys) -> None:
    assert refused(server, sign(keys, "ES256", claims(), key=keys.other_ec_private), keys) == "bad signature"


def test_hs256_signature_under_an_hs512_header_is_a_bad_signature(server: MockServer, keys: Keys) -> None:
    good = sign(keys, "HS256", claims())
    forged_header = jwt.utils.base64url_encode(json.dumps({"alg": "HS512", "typ": "JWT"}).encode()).decode()
    _, payload, signature = good.split(".")
    assert refused(server, f"{forged_header}.{payload}.{signature}", keys) == "bad signature"
    # And the other way round, a header that says HS256 over an HS512 signature.
    good512 = sign(keys, "HS512", claims())
    header256 = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).decode()
    _, payload, signature = good512.split(".")
    assert refused(server, f"{header256}.{payload}.{signature}", keys) == "bad signature"


def test_tampered_claims_are_a_bad_signature(server: MockServer, keys: Keys) -> None:
    header, _, signature = sign(keys, "HS512", claims()).split(".")
    payload = jwt.utils.base64url_encode(json.dumps(claims(isAdmin=True)).encode()).decode()
    assert refused(server, f"{header}.{payload}.{signature}", keys) == "bad signature"


def test_wrong_or_missing_workspace(server: MockServer, keys: Keys) -> None:
    message = refused(server, sign(keys, "HS512", claims(workspaceKey="wk-other")), keys)
    assert message.startswith("wrong workspace") and "wk-other" in message
    message = refused(server, sign(keys, "HS512", claims(workspaceKey=None)), keys)
    assert message.startswith("wrong workspace")
    # workspaceKey wins over iss.
    message = refused(server, sign(keys, "HS512", claims(workspaceKey="wk-other", iss=WORKSPACE)), keys)
    assert message.startswith("wrong workspace")


def test_expired_token_says_when(server: MockServer, keys: Keys) -> None:
    exp = int(time.time()) - 30
    message = refused(server, sign(keys, "ES256", claims(iat=exp - 60, exp=exp)), keys)
    assert message == f"token expired at {iso(exp)}"


def test_expiry_has_no_leeway(server: MockServer, keys: Keys) -> None:
    exp = int(time.time()) + 2
    token = sign(keys, "HS256", claims(exp=exp))
    status, _, text = request(server, token)
    assert status == 200, text
    while time.time() < exp:
        time.sleep(0.02)
    assert refused(server, token, keys) == f"token expired at {iso(exp)}"


def test_token_without_exp(server: MockServer, keys: Keys) -> None:
    assert refused(server, sign(keys, "HS256", claims(exp=None)), keys) == "token has no exp claim"


def test_nbf_and_iat_far_in_the_future(server: MockServer, keys: Keys) -> None:
    later = int(time.time()) + 600
    assert refused(server, sign(keys, "HS256", claims(nbf=later)), keys) == \
        f"token not valid before {iso(later)} (nbf)"
    assert refused(server, sign(keys, "HS256", claims(iat=later)), keys) == \
        f"token issued in the future, at {iso(later)} (iat)"


def test_alg_none_is_refused(server: MockServer, keys: Keys) -> None:
    token = jwt.encode(claims(), None, algorithm="none")
    assert token.endswith(".")  # an empty signature
    assert refused(server, token, keys).startswith("unsupported algorithm: 'none'")


def test_other_algorithms_are_refused(server: MockServer, keys: Keys) -> None:
    # HS384 verifies with a library but is not one the stand-in accepts.
    assert refused(server, jwt.encode(claims(), keys.secret, algorithm="HS384"), keys) \
        .startswith("unsupported algorithm: 'HS384'")
    # RS256 while the server holds an EC key.
    assert refused(server, sign(keys, "RS256", claims()), keys).startswith("unsupported algorithm")


@pytest.mark.parametrize("shape", ["half", "no-signature-part", "short-signature", "garbage", "bad-base64", "json-array"])
def test_malformed_tokens(server: MockServer, keys: Keys, shape: str) -> None:
    token = sign(keys, "HS512", claims())
    header, payload, signature = token.split(".")
    # The MAC's last 3 bytes cut off, spelled as valid base64url.
    short_signature = jwt.utils.base64url_encode(jwt.utils.base64url_decode(signature)[:-3]).decode()
    forged = {
        "half": token[: len(token) // 2],
        "no-signature-part": f"{header}.{payload}",
        "short-signature": f"{header}.{payload}.{short_signature}",
        "garbage": "not-a-jwt-" + secrets.token_hex(8),
        "bad-base64": f"{header}.{payload[:10]}*{payload[11:]}.{signature}",
        "json-array": f"{header}.{jwt.utils.base64url_encode(b'[1, 2]').decode()}.{signature}",
    }[shape]
    message = refused(server, forged, keys)
    if shape == "short-signature":
        assert message == "bad signature"  # well-formed, but 61 bytes are no HS512 MAC
    else:
        assert message.startswith("malformed token"), message


def test_base64url_must_be_canonical(server: MockServer, keys: Keys) -> None:
    """Padding, or unused low bits that are not zero, make a part malformed."""
    header, payload, signature = sign(keys, "HS256", claims()).split(".")
    assert len(signature) % 4 == 3  # 32 bytes: the last character carries 2 unused bits
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(signature[-1])
    noncanonical = signature[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last | 1]
    assert refused(server, f"{header}.{payload}.{noncanonical}", keys).startswith("malformed token")
    assert refused(server, f"{header}.{payload}.{signature}=", keys).startswith("malformed token")


def test_missing_header_and_other_schemes(server: MockServer, keys: Keys) -> None:
    status, body, _ = request(server, None)
    assert status == 401 and body["message"] == "Authorization header is missing"
    req = urllib.request.Request(server.url + f"/integrations/{SELECTOR}",
                                 headers={"Authorization": "Basic " + sign(keys, "HS256", claims())})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(req, timeout=10)
    assert caught.value.code == 401
    assert json.loads(caught.value.read())["message"] == "Authorization header is not 'Bearer <token>'"


# ---------------------------------------------------------------------------
# includeSecrets needs a workspace admin token
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("is_admin", [None, False, "true"])
def test_include_secrets_needs_is_admin(server: MockServer, keys: Keys, is_admin: Any) -> None:
    token = sign(keys, "HS512", claims(isAdmin=is_admin))
    status, body, text = request(server, token, f"/integrations/{SELECTOR}?includeSecrets=true")
    assert status == 403 and body["key"] == "access_denied" and "isAdmin" in body["message"], text
    assert not leaked(text, token, keys.secret)
    # Masked secrets need no admin token.
    status, body, _ = request(server, token, f"/integrations/{SELECTOR}?includeSecrets=false")
    assert status == 200 and body["parameters"]["clientSecret"] == "********"


def test_admin_token_reads_secrets(server: MockServer, keys: Keys) -> None:
    payload = claims(tenantKey=None, name=None, isAdmin=True)
    status, body, text = request(server, sign(keys, "ES256", payload), f"/integrations/{SELECTOR}?includeSecrets=true")
    assert status == 200 and body["parameters"]["clientSecret"] == "hubspot-client-secret-456", text
    assert server.last_request()["claims"] == payload


def test_fixed_token_still_reads_secrets(server: MockServer) -> None:
    status, body, text = request(server, TOKEN, f"/integrations/{SELECTOR}?includeSecrets=true")
    assert status == 200 and body["parameters"]["clientSecret"] == "hubspot-client-secret-456", text


# ---------------------------------------------------------------------------
# Nothing leaks; nothing changes without --workspace-key
# ---------------------------------------------------------------------------


def test_no_token_or_secret_in_the_log_or_the_output(server: MockServer, keys: Keys) -> None:
    tokens = [sign(keys, alg, claims()) for alg in ("HS256", "HS512", "ES256")]
    tokens.append(sign(keys, "HS256", claims(), key=keys.wrong_secret))
    tokens.append(sign(keys, "HS256", claims(exp=int(time.time()) - 5)))
    for token in tokens:
        request(server, token)
        request(server, token, f"/integrations/{SELECTOR}?includeSecrets=true")
    log = server.requests()
    assert len(log) == 2 * len(tokens)
    assert all("authorization" not in entry["headers"] for entry in log)
    signatures = [t.split(".")[2] for t in tokens]
    text = json.dumps(log)
    assert not leaked(text, keys.secret, keys.wrong_secret, TOKEN, *tokens, *signatures)
    assert not leaked("\n".join(server.output), keys.secret, keys.wrong_secret, *tokens, *signatures)


def test_without_workspace_key_jwts_are_refused_as_before(mock: MockServer, keys: Keys) -> None:
    """The shared stand-in (no --workspace-key) keeps its one fixed token."""
    status, body, _ = request(mock, sign(keys, "HS512", claims()))
    assert status == 401 and body["message"] == "Invalid or expired access token"
    assert mock.last_request()["claims"] is None
    status, _, _ = request(mock, TOKEN, f"/integrations/{SELECTOR}?includeSecrets=true")
    assert status == 200


def _start_fails(args: List[str]) -> str:
    """Runs the stand-in with `args`; asserts it exits non-zero at once; its stderr."""
    process = subprocess.run([str(_mock_binary()), "--port", "0", "--fixtures", str(FIXTURES), *args],
                             cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert process.returncode != 0 and process.stdout == ""
    return process.stderr


def test_command_line_checks(keys: Keys, tmp_path: Path) -> None:
    assert "need --workspace-key" in _start_fails(["--workspace-secret", "x" * 40])
    assert "need --workspace-key" in _start_fails(["--public-key", str(keys.ec_public)])
    assert "needs --workspace-secret" in _start_fails(["--workspace-key", WORKSPACE])
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello\n")
    assert "no PEM public key" in _start_fails(["--workspace-key", WORKSPACE, "--public-key", str(not_a_key)])
    assert "neither EC P-256" in _start_fails(["--workspace-key", WORKSPACE, "--public-key", str(keys.p384_public)])
    assert "cannot read" in _start_fails(["--workspace-key", WORKSPACE, "--public-key", str(tmp_path / "absent.pem")])
