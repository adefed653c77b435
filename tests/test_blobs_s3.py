"""Documents in an S3-compatible object store (a local S3 server speaking the protocol over
HTTP): write-once, checked on every read, and the service end to end with it."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from evidence_chain.blobs import S3BlobStore, blob_store_for
from evidence_chain.config import Settings, load_settings
from evidence_chain.errors import ConfigurationError, IntegrityError, NotFoundError
from tests.service import free_port
from tests.signing.conftest import make_pdf

BUCKET = "sealtrail-documents"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The usual AWS settings pointing at the local server, and an empty bucket."""
    for name, value in {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "sealtrail-test",
        "AWS_SECRET_ACCESS_KEY": "sealtrail-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    raw = boto3.client("s3")
    if any(b["Name"] == BUCKET for b in raw.list_buckets()["Buckets"]):
        for obj in raw.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            raw.delete_object(Bucket=BUCKET, Key=obj["Key"])
    else:
        raw.create_bucket(Bucket=BUCKET)
    return raw


def keys(raw: Any) -> list[str]:
    return sorted(o["Key"] for o in raw.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_a_document_round_trips_once_under_its_hash(s3_env: Any, tmp_path: Path) -> None:
    store = blob_store_for(tmp_path, f"s3://{BUCKET}/tenant-docs")
    assert isinstance(store, S3BlobStore)
    data = make_pdf(1)
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.get(digest) == data and store.exists(digest)
    assert store.put(data) == digest  # idempotent
    assert keys(s3_env) == [f"tenant-docs/{digest[:2]}/{digest[2:4]}/{digest}"]
    assert not (tmp_path / "blobs").exists(), "nothing is written to the local disk"
    absent = "0" * 64
    assert not store.exists(absent)
    with pytest.raises(NotFoundError):
        store.get(absent)


def test_an_altered_object_is_refused_and_not_overwritten(s3_env: Any) -> None:
    store = S3BlobStore.from_url(f"s3://{BUCKET}/x")
    data = b"%PDF-1.7 the signed contract"
    digest = store.put(data)
    key = keys(s3_env)[0]
    s3_env.put_object(Bucket=BUCKET, Key=key, Body=b"%PDF-1.7 another contract")
    with pytest.raises(IntegrityError):
        store.get(digest)
    # Writing the true bytes again does not silently repair (or hide) the alteration.
    store.put(data)
    with pytest.raises(IntegrityError):
        store.get(digest)


@pytest.mark.parametrize("url", ["s3://", "https://bucket/x", "s3://bucket/x?versionId=1"])
def test_a_malformed_store_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError):
        S3BlobStore.from_url(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path, s3_env: Any) -> Settings:
    return load_settings(
        {
            "EVIDENCE_HOME": str(tmp_path / "home"),
            "DATABASE_URL": database_url,
            "EVIDENCE_SCHEDULER": "false",
            "EVIDENCE_LOG_ORIGIN": "sealtrail.test/log",
            "EVIDENCE_ANCHORING": "false",
            "EVIDENCE_BLOB_URL": f"s3://{BUCKET}/docs",
        }
    )


def create_envelope(client: Any, auth: dict[str, str], pdf: bytes) -> Any:
    spec = {
        "title": "Lease 7",
        "parties": [
            {
                "name": "Dana Ng",
                "email": "dana@example.test",
                "fields": [{"kind": "signature", "page": 1, "x": 72, "y": 72}],
            }
        ],
    }
    return client.post(
        "/api/v1/envelopes",
        data={"spec": json.dumps(spec), "documents": [(io.BytesIO(pdf), "lease.pdf")]},
        headers=auth,
        content_type="multipart/form-data",
    )


def test_the_service_keeps_documents_in_the_object_store(
    client: Any, auth: dict[str, str], s3_env: Any, settings: Settings
) -> None:
    pdf = make_pdf(2)
    digest = hashlib.sha256(pdf).hexdigest()
    created = create_envelope(client, auth, pdf)
    assert created.status_code == 201, created.get_json()
    assert f"docs/{digest[:2]}/{digest[2:4]}/{digest}" in keys(s3_env)
    assert not (settings.home / "blobs").exists()
    got = client.get(f"/api/v1/envelopes/{created.get_json()['id']}/documents/1", headers=auth)
    assert got.status_code == 200 and got.data == pdf
    assert got.headers["X-Sealtrail-Sha256"] == digest


def test_an_unreachable_store_is_a_503_and_records_nothing(
    client: Any, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    created = create_envelope(client, auth, make_pdf(1))
    assert created.status_code == 503, created.get_json()
    error = created.get_json()["error"]
    assert error["code"] == "storage_unavailable"
    assert "sealtrail-test-secret" not in json.dumps(error)
    listed = client.get("/api/v1/envelopes", headers=auth)
    assert listed.status_code == 200 and listed.get_json()["envelopes"] == []
