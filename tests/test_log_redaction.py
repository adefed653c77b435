"""No secret in any log line: signer-link tokens, keys, codes and URL credentials are redacted
in gunicorn's access and error logs and in the application's own logging."""

from __future__ import annotations

import io
import logging
import secrets
from pathlib import Path

import pytest
import requests

from evidence_chain.redact import MASK, RedactingFilter, install, redact
from tests.service import Service, service_env


@pytest.mark.parametrize(
    ("line", "secret", "kept"),
    [
        ('"GET /sign/AbC123_secret-token HTTP/1.1" 404', "AbC123_secret-token", "/sign/"),
        ("POST /sign/AbC123_secret-token/code", "AbC123_secret-token", "/code"),
        ("GET /invite/Zz9_inv1te HTTP/1.1", "Zz9_inv1te", "/invite/"),
        ("GET /set-password/pw_t0ken HTTP/1.1", "pw_t0ken", "/set-password/"),
        ("GET /verify?token=t0k3n&x=1", "t0k3n", "x=1"),
        ("GET /x?a=1&key=s3cr3tk3y", "s3cr3tk3y", "?a=1"),
        ("GET /callback?code=123456&state=ok", "123456", "state=ok"),
        ("rpc https://user:pa55word@rpc.example.net/", "pa55word", "rpc.example.net"),
        (
            "rpc https://mainnet.infura.example/v3/0123456789abcdef0123",
            "0123456789abcdef0123",
            "/v3/",
        ),
        ("rpc https://eth.alchemy.example/v2/AbCdEf123456GhIjKl", "AbCdEf123456GhIjKl", "/v2/"),
        (
            "rpc https://x.quik.example/abc123def456ghi789jkl012mno/",
            "abc123def456ghi789jkl012mno",
            "quik",
        ),
        ("hook https://hooks.example/in?secret=whk-s3cr3t", "whk-s3cr3t", "hooks.example"),
        (
            "POST https://hooks.example/services/T01/B02/aB3dE5gH7jK9mN1pQ3sT5vX7",
            "aB3dE5gH7jK9mN1pQ3sT5vX7",
            "/services/T01/B02/",
        ),
        ("key stk_AbCdEfGhIjKlMnOp used", "AbCdEfGhIjKlMnOp", "stk_"),
        ("secret whsec_QrStUvWxYz012345 set", "QrStUvWxYz012345", "whsec_"),
        ("Authorization: Bearer abcdefgh12345678", "abcdefgh12345678", "Authorization"),
    ],
)
def test_redact_removes_the_secret_and_keeps_the_route(line: str, secret: str, kept: str) -> None:
    out = redact(line)
    assert secret not in out
    assert kept in out
    assert MASK in out


def test_redact_leaves_ordinary_lines_alone() -> None:
    for line in (
        '"GET /api/v1/events/ev_0123456789abcdef HTTP/1.1" 200',
        '"POST /api/v1/documents/sign HTTP/1.1" 200',
        "GET /verify?document=" + "ab" * 32,
        "https://sealtrail.example/verify?document=" + "ab" * 32,
        "https://sealtrail.example/api/v1/events/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "tree size 12 anchored at block 9",
    ):
        assert redact(line) == line


def test_filter_redacts_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    install([handler])
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("opened %s", "/sign/Secret_Token_1")
        try:
            raise RuntimeError("cannot reach https://u:Pw_Secret_2@rpc.example/")
        except RuntimeError:
            logger.exception("while calling /verify?key=Key_Secret_3")
        logger.info("stack", stack_info=True, extra={"unused": "/sign/Secret_Token_4"})
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    for secret in ("Secret_Token_1", "Pw_Secret_2", "Key_Secret_3"):
        assert secret not in text
    assert "/sign/[redacted]" in text
    assert "RuntimeError" in text  # the traceback is kept, only the secret goes
    assert any(isinstance(f, RedactingFilter) for f in handler.filters)


def test_the_app_installs_the_filter_on_the_root_handlers(app: object) -> None:
    root = logging.getLogger()
    assert root.handlers
    assert all(any(isinstance(f, RedactingFilter) for f in h.filters) for h in root.handlers)


@pytest.mark.slow
def test_no_token_in_gunicorn_logs(tmp_path: Path, database_url: str) -> None:
    """The real server, access and error logs to files: the secrets of the URLs asked are in
    neither, the routes are."""
    home = tmp_path / "instance"
    home.mkdir()
    access = tmp_path / "access.log"
    errors = tmp_path / "error.log"
    env = service_env(home, database_url)
    env["GUNICORN_CMD_ARGS"] = f"--access-logfile {access} --error-logfile {errors}"
    svc = Service(home=home, env=env)
    svc.start()
    token = secrets.token_urlsafe(32)
    query_secret = secrets.token_urlsafe(16)
    key = "stk_" + secrets.token_urlsafe(32)
    try:
        requests.get(f"{svc.url}/sign/{token}", timeout=10)
        requests.post(f"{svc.url}/sign/{token}/code", timeout=10)
        requests.get(
            f"{svc.url}/verify?token={query_secret}",
            headers={"Referer": f"{svc.url}/sign/{token}"},
            timeout=10,
        )
        requests.get(
            f"{svc.url}/api/v1/events/x?key={key}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
    finally:
        svc.stop()
    logs = access.read_text() + errors.read_text() + svc.log_path.read_text()
    assert "GET /sign/[redacted] HTTP/1.1" in logs
    assert "POST /sign/[redacted]/code HTTP/1.1" in logs
    assert "/verify?token=[redacted]" in logs
    for secret in (token, query_secret, key, key[4:]):
        assert secret not in logs
