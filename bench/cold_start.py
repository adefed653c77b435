"""Time-stamping right after a cold start: fresh instances under gunicorn, parallel clients.

Each cold start is a new ``EVIDENCE_HOME`` served by 4 workers; CLIENTS clients then send
REQUESTS ``POST /tsa`` each, all starting together. A request fails when it is not a 200
with a granted token that ``openssl ts -verify`` accepts against the root and issuing CA on
disk, and a cold start fails when ``pki/tsa.pem`` does not chain to them. Target: none.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import requests
from asn1crypto import tsp

from tests.service import Service, service_env

COLD_STARTS = int(os.environ.get("BENCH_COLD_STARTS", "4"))
CLIENTS = 8
REQUESTS = 20


def _request(client: int, n: int) -> bytes:
    digest = hashlib.sha256(b"%d/%d" % (client, n)).digest()
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": client * 1000 + n + 1,
            "cert_req": True,
        }
    ).dump()


def _openssl(*args: str) -> bool:
    out = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30)
    return out.returncode == 0


def _verify(home: Path, work: Path, name: str, request: bytes, reply: bytes) -> bool:
    pki = home / "pki"
    query, answer = work / f"{name}.tsq", work / f"{name}.tsr"
    query.write_bytes(request)
    answer.write_bytes(reply)
    return _openssl(
        "ts", "-verify", "-queryfile", str(query), "-in", str(answer),
        "-CAfile", str(pki / "root.pem"), "-untrusted", str(pki / "issuing.pem"),
    )  # fmt: skip


def _cold_start(tmp: Path, n: int) -> tuple[int, int, int, bool]:
    """One fresh instance: (errors, unverifiable tokens, requests, whether tsa.pem chains)."""
    home, work = tmp / f"instance{n}", tmp / f"work{n}"
    home.mkdir()
    work.mkdir()
    env = service_env(home, f"sqlite:///{home / 'sealtrail.db'}", WEB_CONCURRENCY="4")
    env["EVIDENCE_SCHEDULER"] = "false"
    svc = Service(home=home, env=env)
    svc.start()
    replies: list[tuple[str, bytes, int, bytes]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client(c: int) -> None:
        session = requests.Session()
        barrier.wait()
        for i in range(REQUESTS):
            body = _request(c, i)
            try:
                r = session.post(
                    f"{svc.url}/tsa",
                    data=body,
                    headers={"Content-Type": "application/timestamp-query"},
                    timeout=60,
                )
                got = (r.status_code, r.content)
            except requests.RequestException:
                got = (0, b"")
            with lock:
                replies.append((f"{c}-{i}", body, *got))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        svc.stop()
    pki = home / "pki"
    chained = _openssl(
        "verify", "-CAfile", str(pki / "root.pem"), "-untrusted", str(pki / "issuing.pem"),
        str(pki / "tsa.pem"),
    )  # fmt: skip
    errors = failed = 0
    for name, body, status, content in replies:
        if status != 200:
            errors += 1
            continue
        try:
            granted = tsp.TimeStampResp.load(content)["status"]["status"].native == "granted"
        except ValueError:
            granted = False
        if not granted or not _verify(home, work, name, body, content):
            failed += 1
    return errors, failed, len(replies), chained


def run() -> list[str]:
    """COLD_STARTS fresh instances x CLIENTS parallel clients x REQUESTS time-stamp requests."""
    errors = failed = total = broken = 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(COLD_STARTS):
            e, f, t, chained = _cold_start(Path(tmp), n)
            errors, failed, total = errors + e, failed + f, total + t
            broken += 0 if chained else 1
            print(
                f"   cold start {n + 1}: {e} of {t} not answered 200, {f} tokens do not verify; "
                f"tsa.pem {'chains' if chained else 'DOES NOT CHAIN'} on disk",
                flush=True,
            )
    print(
        f"   {COLD_STARTS} cold starts x {CLIENTS} clients x {REQUESTS} requests: {errors} of "
        f"{total} not 200, {failed} tokens that do not verify, {broken} instance(s) whose "
        "tsa.pem does not chain (aim: 0, 0, 0)"
    )
    failures = []
    if errors or failed or broken:
        failures.append(
            f"cold start: {errors}/{total} time-stamp requests failed, {failed} tokens do not "
            f"verify, {broken} broken chain(s)"
        )
    return failures


if __name__ == "__main__":
    sys.exit(1 if run() else 0)
