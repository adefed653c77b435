"""A fresh instance under gunicorn (several workers) whose first requests come all at once:
one signing authority on disk, chained, and every token and signature verifies against it."""

from __future__ import annotations

import io
import json
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from evidence_chain.db import make_engine
from evidence_chain.tenants import create_tenant
from signing.validate import validate_pdf
from tests.service import Service, service_env
from tests.signing.conftest import make_pdf
from tests.signing.test_concurrency import tsa_request

pytestmark = pytest.mark.slow

ROUNDS = 3
STAMPERS = 8
SIGNERS = 3


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the openssl command line tool (what a relying party would use)."""
    return subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30)


def first_requests(svc: Service, key: str, seal_id: str, pdf: bytes) -> list[tuple[str, Any]]:
    """Send STAMPERS time-stamp requests and SIGNERS signing requests at the same moment."""
    barrier = threading.Barrier(STAMPERS + SIGNERS)
    results: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def stamp(i: int) -> None:
        body = tsa_request(i)
        barrier.wait()
        r = requests.post(
            f"{svc.url}/tsa",
            data=body,
            headers={"Content-Type": "application/timestamp-query"},
            timeout=120,
        )
        with lock:
            results.append(("tsa", (i, body, r.status_code, r.content)))

    def sign(i: int) -> None:
        files = {"document": ("contract.pdf", io.BytesIO(pdf), "application/pdf")}
        data = {
            "seal_id": seal_id,
            "placements": json.dumps([{"kind": "explicit", "page": 1, "x": 300, "y": 100}]),
            "subject": f"cold-start-{i}",
        }
        barrier.wait()
        r = requests.post(
            f"{svc.url}/api/v1/documents/sign",
            files=files,
            data=data,
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
        )
        with lock:
            results.append(("sign", (i, r.status_code, r.content)))

    threads = [threading.Thread(target=stamp, args=(i,)) for i in range(STAMPERS)]
    threads += [threading.Thread(target=sign, args=(i,)) for i in range(SIGNERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(results) == STAMPERS + SIGNERS
    return results


def check_round(home: Path, results: list[tuple[str, Any]], work: Path) -> None:
    """Everything the instance answered verifies against the one authority on disk."""
    pki = home / "pki"
    root, issuing, tsa = pki / "root.pem", pki / "issuing.pem", pki / "tsa.pem"
    chained = openssl("verify", "-CAfile", str(root), "-untrusted", str(issuing), str(tsa))
    assert chained.returncode == 0, (
        f"tsa.pem does not chain on disk: {chained.stdout}{chained.stderr}"
    )
    root_cert = x509.load_pem_x509_certificate(root.read_bytes())
    tsa_der = x509.load_pem_x509_certificate(tsa.read_bytes()).public_bytes(Encoding.DER)
    for kind, value in results:
        if kind == "tsa":
            i, body, status, content = value
            assert status == 200, content[:300]
            reply = tsp.TimeStampResp.load(content)
            assert reply["status"]["status"].native == "granted"
            signed_data = reply["time_stamp_token"]["content"]
            carried = [c.chosen.dump() for c in signed_data["certificates"]]
            assert tsa_der in carried, "a token signed by a TSA other than the one on disk"
            query, answer = work / f"q{i}.tsq", work / f"r{i}.tsr"
            query.write_bytes(body)
            answer.write_bytes(content)
            out = openssl(
                "ts", "-verify", "-queryfile", str(query), "-in", str(answer),
                "-CAfile", str(root), "-untrusted", str(issuing),
            )  # fmt: skip
            assert out.returncode == 0 and "Verification: OK" in out.stdout, out.stdout + out.stderr
        else:
            i, status, content = value
            assert status == 200, content[:300]
            report = validate_pdf(content, [root_cert])
            (sig,) = report.signatures
            assert sig.bottom_line, sig.summary()
            assert sig.timestamp is not None and sig.timestamp.trusted, sig.summary()


def test_concurrent_first_requests_on_fresh_instances_share_one_authority(tmp_path: Path) -> None:
    pdf = make_pdf(1)
    for n in range(ROUNDS):
        home = tmp_path / f"instance{n}"
        home.mkdir()
        work = tmp_path / f"work{n}"
        work.mkdir()
        svc = Service(
            home=home,
            env=service_env(
                home, f"sqlite:///{home / 'sealtrail.db'}", WEB_CONCURRENCY="4", WEB_THREADS="4"
            ),
        )
        svc.start()
        try:
            engine = make_engine(f"sqlite:///{home / 'sealtrail.db'}")
            try:  # straight into the database: the CLI's start-up would triple the test's time
                key = create_tenant(engine, "Cold Start Co")[1]
            finally:
                engine.dispose()
            seal = requests.post(
                f"{svc.url}/api/v1/seals",
                json={"kind": "official", "text": "Cold Start Co"},
                headers={"Authorization": f"Bearer {key}"},
                timeout=60,
            )
            assert seal.status_code == 201, seal.text
            results = first_requests(svc, key, seal.json()["id"], pdf)
        finally:
            svc.stop()
        check_round(home, results, work)


def test_the_server_and_commands_refuse_an_authority_that_does_not_chain(tmp_path: Path) -> None:
    from evidence_chain.config import load_settings
    from runtime.setup import initialise
    from tests.signing.test_authority import _tsa_of_another_ca

    home = tmp_path / "instance"
    env = service_env(home, f"sqlite:///{home / 'sealtrail.db'}")
    initialise(load_settings(env))
    _tsa_of_another_ca(home, tmp_path)  # what two workers racing at first start left behind
    svc = Service(home=home, env=env)
    home.mkdir(exist_ok=True)
    with pytest.raises(RuntimeError, match=r"tsa\.pem was not issued by .*issuing\.pem"):
        svc.start(timeout=60)
    # A command that uses the authority refuses it too, naming the file; one that does not
    # (listing tenants, a backup of the broken instance) still runs.
    with pytest.raises(RuntimeError, match=r"tsa\.pem was not issued by .*issuing\.pem"):
        svc.flask("pki", "status")
    svc.flask("tenant", "list")  # raises RuntimeError if the command refused to run
