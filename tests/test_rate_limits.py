"""Rate limits with real, low limits: 429 in the error envelope with Retry-After, per API key
for the API, per address for the public endpoints and for wrong keys; public uploads bounded
below a tenant's; X-Forwarded-For only from trusted proxies; counts shared through Redis."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from evidence_chain.config import Settings
from evidence_chain.tenants import create_tenant
from runtime.setup import initialise

A = {"REMOTE_ADDR": "198.51.100.1"}
B = {"REMOTE_ADDR": "198.51.100.2"}
JUNK = b"not a pdf, not a bundle"


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Any]:
    """Build initialised apps on the test instance with rate limits on and the given settings."""
    from app import create_app
    from web import context

    made: list[Any] = []
    base = settings.with_overrides(log_origin=f"sealtrail.test/{uuid.uuid4().hex}")
    initialise(base)

    def build(**overrides: Any) -> Any:
        application = create_app(base.with_overrides(rate_limits_enabled=True, **overrides))
        application.config["TESTING"] = True
        made.append(application)
        return application

    yield build
    for application in made:
        context.close(application)


def assert_limited(response: Any) -> dict[str, Any]:
    """A 429 in the envelope, code rate_limited, with a Retry-After in seconds."""
    assert response.status_code == 429, response.get_data(as_text=True)[:300]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 3600
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["retry_after"] == retry_after
    return dict(error)


def test_public_verify_is_limited_per_address(make_app: Any) -> None:
    client = make_app(rate_limit_verify="3/minute").test_client()
    for _ in range(3):
        answer = client.post("/api/v1/verify", data=JUNK, environ_base=A)
        assert answer.status_code != 429
    error = assert_limited(client.post("/api/v1/verify", data=JUNK, environ_base=A))
    assert error["details"]["limit"].startswith("3 per 1 minute")
    # the verify page shares the count: same address, same group
    page = client.post("/verify", data={}, environ_base=A)
    assert page.status_code == 429
    # another address is not throttled
    assert client.post("/api/v1/verify", data=JUNK, environ_base=B).status_code != 429


def test_html_pages_answer_a_bilingual_page(make_app: Any) -> None:
    client = make_app(rate_limit_public="2/minute", rate_limit_verify="1/minute").test_client()
    for _ in range(2):
        assert client.get("/sign/not-a-real-link", environ_base=A).status_code != 429
    page = client.get("/sign/not-a-real-link", environ_base=A)
    assert page.status_code == 429
    assert page.mimetype == "text/html"
    assert int(page.headers["Retry-After"]) >= 1
    text = page.get_data(as_text=True)
    assert "请求过于频繁" in text and "Too many requests" in text
    assert client.get("/verify?document=" + "ab" * 32, environ_base=B).status_code != 429
    lookup = client.get("/verify?document=" + "ab" * 32, environ_base=B)
    assert lookup.status_code == 429 and "Too many requests" in lookup.get_data(as_text=True)
    # the plain form is not a lookup: never counted as one
    assert client.get("/verify", environ_base=B).status_code == 200


def test_tsa_is_limited_per_address(make_app: Any) -> None:
    client = make_app(rate_limit_tsa="2/minute").test_client()
    headers = {"Content-Type": "application/timestamp-query"}
    for _ in range(2):
        assert client.post("/tsa", data=b"x", headers=headers, environ_base=A).status_code != 429
    assert_limited(client.post("/tsa", data=b"x", headers=headers, environ_base=A))
    assert client.post("/tsa", data=b"x", headers=headers, environ_base=B).status_code != 429


def test_api_is_limited_per_key(make_app: Any) -> None:
    app = make_app(rate_limit_api="3/minute")
    from web.context import services

    engine = services(app).engine
    _a, key_a = create_tenant(engine, "Tenant A")
    _b, key_b = create_tenant(engine, "Tenant B")
    client = app.test_client()
    for _ in range(3):
        ok = client.get(
            "/api/v1/keys", headers={"Authorization": f"Bearer {key_a}"}, environ_base=A
        )
        assert ok.status_code == 200
    assert_limited(
        client.get("/api/v1/keys", headers={"Authorization": f"Bearer {key_a}"}, environ_base=A)
    )
    # the same address with another key: its own count
    other = client.get("/api/v1/keys", headers={"Authorization": f"Bearer {key_b}"}, environ_base=A)
    assert other.status_code == 200
    # key A is throttled from every address
    assert_limited(
        client.get("/api/v1/keys", headers={"Authorization": f"Bearer {key_a}"}, environ_base=B)
    )


def test_wrong_keys_are_throttled_per_address(make_app: Any) -> None:
    app = make_app(rate_limit_auth_failures="3/minute")
    from web.context import services

    _t, key = create_tenant(services(app).engine, "Tenant")
    client = app.test_client()
    for n in range(3):
        wrong = {"Authorization": f"Bearer stk_wrong{n}"}
        assert client.get("/api/v1/keys", headers=wrong, environ_base=A).status_code == 401
    error = assert_limited(
        client.get("/api/v1/keys", headers={"Authorization": "Bearer stk_x"}, environ_base=A)
    )
    assert error["details"]["scope"] == "auth-failures"
    # over the limit, even the right key is refused from that address (no oracle) ...
    right = {"Authorization": f"Bearer {key}"}
    assert_limited(client.get("/api/v1/keys", headers=right, environ_base=A))
    # ... and served from another
    assert client.get("/api/v1/keys", headers=right, environ_base=B).status_code == 200
    # a wrong key on the public verify API counts too
    verify = client.post(
        "/api/v1/verify", data=JUNK, headers={"Authorization": "Bearer no"}, environ_base=A
    )
    assert_limited(verify)


def test_public_uploads_are_bounded_below_a_tenants(make_app: Any) -> None:
    app = make_app(max_public_upload_bytes=1000)
    from web.context import services

    _t, key = create_tenant(services(app).engine, "Tenant")
    client = app.test_client()
    body = b"%PDF-1.7\n" + b"x" * 2000
    public = client.post("/api/v1/verify", data=body, environ_base=A)
    assert public.status_code == 413
    assert public.get_json()["error"]["code"] == "payload_too_large"
    assert public.get_json()["error"]["details"]["limit"] == 1000
    form = client.post(
        "/verify", data={"file": (__import__("io").BytesIO(body), "a.pdf")}, environ_base=A
    )
    assert form.status_code == 413
    tenant = client.post(
        "/api/v1/verify", data=body, headers={"Authorization": f"Bearer {key}"}, environ_base=A
    )
    assert tenant.status_code not in (413, 429)  # read and checked: not a PDF it can verify
    wrong = client.post(
        "/api/v1/verify", data=body, headers={"Authorization": "Bearer stk_wrong"}, environ_base=A
    )
    assert wrong.status_code == 401


def test_forwarded_for_is_trusted_only_when_configured(make_app: Any) -> None:
    plain = make_app(rate_limit_tsa="1/minute").test_client()
    headers = {"Content-Type": "application/timestamp-query"}
    spoof = {**headers, "X-Forwarded-For": "203.0.113.9"}
    assert plain.post("/tsa", data=b"x", headers=spoof, environ_base=A).status_code != 429
    other = {**headers, "X-Forwarded-For": "203.0.113.10"}
    assert plain.post("/tsa", data=b"x", headers=other, environ_base=A).status_code == 429

    proxied = make_app(rate_limit_tsa="1/minute", trusted_proxies=1).test_client()
    assert proxied.post("/tsa", data=b"x", headers=spoof, environ_base=A).status_code != 429
    assert proxied.post("/tsa", data=b"x", headers=spoof, environ_base=A).status_code == 429
    # another client behind the same proxy has its own count
    assert proxied.post("/tsa", data=b"x", headers=other, environ_base=A).status_code != 429


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A Redis server of the tests' own (Debian's redis-server, installed by `make deps`), on a
    free port, keeping nothing on disk."""
    import shutil
    import subprocess
    import time

    from tests.service import free_port

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make deps installs it)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def test_redis_shares_the_count_between_workers(make_app: Any, redis_url: str) -> None:
    options = {"rate_limit_tsa": "3/minute", "rate_limit_storage": redis_url}
    first = make_app(**options).test_client()  # two apps: two workers of one instance
    second = make_app(**options).test_client()
    headers = {"Content-Type": "application/timestamp-query"}
    assert first.post("/tsa", data=b"x", headers=headers, environ_base=A).status_code != 429
    assert second.post("/tsa", data=b"x", headers=headers, environ_base=A).status_code != 429
    assert first.post("/tsa", data=b"x", headers=headers, environ_base=A).status_code != 429
    assert_limited(second.post("/tsa", data=b"x", headers=headers, environ_base=A))


def test_an_unreachable_redis_falls_back_to_memory(make_app: Any) -> None:
    """No 500 when Redis is down: each worker counts in its memory instead."""
    from tests.service import free_port

    app = make_app(
        rate_limit_storage=f"redis://127.0.0.1:{free_port()}",
        rate_limit_auth_failures="1/minute",
        rate_limit_verify="1/minute",
    )
    client = app.test_client()
    wrong = {"Authorization": "Bearer stk_wrong"}
    assert client.get("/api/v1/keys", headers=wrong, environ_base=A).status_code == 401
    assert_limited(client.get("/api/v1/keys", headers=wrong, environ_base=A))
    assert client.post("/api/v1/verify", data=JUNK, environ_base=B).status_code == 415
    assert_limited(client.post("/api/v1/verify", data=JUNK, environ_base=B))


def test_memory_counts_per_app(make_app: Any) -> None:
    options = {"rate_limit_tsa": "1/minute"}
    first = make_app(**options).test_client()
    second = make_app(**options).test_client()
    headers = {"Content-Type": "application/timestamp-query"}
    assert first.post("/tsa", data=b"x", headers=headers, environ_base=A).status_code != 429
    assert second.post("/tsa", data=b"x", headers=headers, environ_base=A).status_code != 429
    assert first.post("/tsa", data=b"x", headers=headers, environ_base=A).status_code == 429


def test_healthz_is_never_limited(make_app: Any) -> None:
    client = make_app(rate_limit_public="1/minute").test_client()
    for _ in range(5):
        assert client.get("/healthz", environ_base=A).status_code == 200


def test_a_bad_limit_setting_refuses_to_start(make_app: Any) -> None:
    from evidence_chain.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="EVIDENCE_RATE_LIMIT_TSA"):
        make_app(rate_limit_tsa="lots")


def test_openapi_documents_429_on_every_operation(make_app: Any) -> None:
    doc = make_app().test_client().get("/api/v1/openapi.json").get_json()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue  # path-level parameters
            responses = operation["responses"]
            if path == "/healthz":
                assert "429" not in responses
                continue
            assert "429" in responses, (method, path)
            assert "Retry-After" in responses["429"]["headers"]
            if method == "post":
                assert "413" in responses, (method, path)


@pytest.mark.slow
def test_under_gunicorn(tmp_path: Any, database_url: str, redis_url: str) -> None:
    """The real server, two workers counting in Redis: the fourth verification from one address
    is a 429 whichever worker takes it; an oversized public upload is a 413 at once."""
    import requests

    from tests.service import Service, service_env

    home = tmp_path / "instance"
    home.mkdir()
    env = service_env(
        home,
        database_url,
        EVIDENCE_RATE_LIMITS="true",
        EVIDENCE_RATE_LIMIT_VERIFY="3/minute",
        EVIDENCE_RATE_LIMIT_STORAGE=redis_url,
        EVIDENCE_MAX_PUBLIC_UPLOAD_BYTES="1000000",
    )
    svc = Service(home=home, env=env)
    svc.start()
    try:
        big = requests.post(f"{svc.url}/api/v1/verify", data=b"x" * 5_000_000, timeout=30)
        assert big.status_code == 413
        assert big.json()["error"]["details"]["limit"] == 1_000_000
        answers = [
            requests.post(f"{svc.url}/api/v1/verify", data=JUNK, timeout=10) for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [415, 415, 429]  # the 413 counted too
        limited = answers[-1]
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
    finally:
        svc.stop()
