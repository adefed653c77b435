"""A three-party envelope end to end over real HTTP against gunicorn, mail through aiosmtpd.

Alice signs first; then Bob and Example Trading Co. (Carol, with the company seal) sign in
parallel. The initiator uses the JSON API; the parties use the signer's page (forms with a
CSRF token, as a browser without JavaScript would), reading links and codes from the local
SMTP server. The final PDF is checked by the service's validator and by poppler's pdfsig.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.envelopes.conftest import Mailbox, three_party_spec
from tests.service import Service, service_env

pytestmark = pytest.mark.slow
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def service(tmp_path: Path, database_url: str, smtp: tuple[Mailbox, int]) -> Iterator[Service]:
    home = tmp_path / "instance"
    home.mkdir()
    env = service_env(
        home,
        database_url,
        EVIDENCE_SMTP_HOST="127.0.0.1",
        EVIDENCE_SMTP_PORT=str(smtp[1]),
    )
    svc = Service(home=home, env=env)
    svc.start()
    yield svc
    svc.stop()


class Party:
    """One signer with a browser-like session on the signer's page."""

    def __init__(self, svc: Service, mailbox: Mailbox, address: str) -> None:
        self.svc, self.mailbox, self.address = svc, mailbox, address
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "en"  # a signer whose browser is English
        self.http.headers["User-Agent"] = f"e2e-browser ({address})"
        link = mailbox.wait_for(address, re.compile(r"(https?://\S+/sign/([A-Za-z0-9_-]+))"))
        assert link.group(1).startswith(svc.url)
        self.token = link.group(2)
        self.csrf = ""

    def open(self) -> str:
        r = self.http.get(f"{self.svc.url}/sign/{self.token}", timeout=30)
        assert r.status_code == 200, r.text[:500]
        found = CSRF.search(r.text)
        assert found, r.text[:500]
        self.csrf = found.group(1)
        return r.text

    def post(self, action: str, **form: str) -> requests.Response:
        return self.http.post(
            f"{self.svc.url}/sign/{self.token}/{action}",
            data={"csrf_token": self.csrf, **form},
            timeout=60,
        )

    def sign(self, texts: dict[str, str] | None = None) -> None:
        self.open()
        self.http.get(f"{self.svc.url}/sign/{self.token}/documents/1/pages/1.png", timeout=60)
        before = len(self.mailbox.to(self.address))
        assert self.post("code").status_code == 200
        code = self.mailbox.code(self.address, before)
        assert self.post("verify", code=code).status_code == 200
        form = {"intent": "yes", **{f"text-{k}": v for k, v in (texts or {}).items()}}
        r = self.post("sign", **form)
        assert r.status_code == 200 and "signed" in r.text, r.text[:800]


def _pdfsig(pdf: bytes, root_pem: bytes, tmp: Path) -> dict[str, str]:
    pdfsig, certutil = shutil.which("pdfsig"), shutil.which("certutil")
    assert pdfsig and certutil, "poppler-utils and libnss3-tools are installed by the set-up"
    nss = tmp / "nss"
    nss.mkdir()
    (tmp / "root.pem").write_bytes(root_pem)
    db = f"sql:{nss}"
    subprocess.run([certutil, "-N", "-d", db, "--empty-password"], check=True, timeout=60)
    subprocess.run(
        [certutil, "-A", "-d", db, "-n", "root", "-t", "CT,C,C", "-i", str(tmp / "root.pem")],
        check=True,
        timeout=60,
    )
    (tmp / "final.pdf").write_bytes(pdf)
    run = subprocess.run(
        [pdfsig, "-nssdir", db, str(tmp / "final.pdf")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    blocks = {}
    for block in re.split(r"^Signature #\d+:\n", run.stdout, flags=re.M)[1:]:
        name = re.search(r"Signature Field Name: (.+)", block)
        assert name, block
        blocks[name.group(1).strip()] = block
    return blocks


def test_three_party_envelope_over_http(
    service: Service, smtp: tuple[Mailbox, int], tmp_path: Path
) -> None:
    mailbox = smtp[0]
    key = service.flask("tenant", "create", "E2E Contracts").strip().splitlines()[-1]
    api = requests.Session()
    api.headers.update({"Authorization": f"Bearer {key}", "User-Agent": "e2e-initiator"})
    url = f"{service.url}/api/v1"
    seal = api.post(
        f"{url}/seals", json={"kind": "contract", "text": "Example Trading Co. Ltd."}, timeout=60
    )
    assert seal.status_code == 201, seal.text
    from tests.signing.conftest import make_pdf

    original = make_pdf(2)
    r = api.post(
        f"{url}/envelopes",
        files=[("documents", ("supply.pdf", original, "application/pdf"))],
        data={"spec": json.dumps(three_party_spec(seal.json()["id"]))},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    env = r.json()
    eid = env["id"]
    assert api.post(f"{url}/envelopes/{eid}/send", timeout=60).json()["status"] == "sent"

    alice = Party(service, mailbox, "alice@example.test")
    assert mailbox.to("bob@example.test") == []
    # Bob's link does not exist yet: nobody can sign out of turn
    alice.sign()
    status = api.get(f"{url}/envelopes/{eid}", timeout=30).json()
    assert status["status"] == "in_progress"
    assert [p["status"] for p in status["parties"]] == ["signed", "pending", "pending"]
    assert [p["your_turn"] for p in status["parties"]] == [False, True, True]

    bob = Party(service, mailbox, "bob@example.test")
    carol = Party(service, mailbox, "carol@example.test")
    text_field = next(f["id"] for f in env["parties"][1]["fields"] if f["kind"] == "text")
    carol.sign()  # the parallel pair in either order
    bob.sign(texts={text_field: "Purchasing manager"})

    done = api.get(f"{url}/envelopes/{eid}", timeout=30).json()
    assert done["status"] == "completed"
    assert [p["status"] for p in done["parties"]] == ["signed"] * 3
    final = api.get(f"{url}/envelopes/{eid}/documents/1", timeout=60)
    assert final.status_code == 200
    final_sha = hashlib.sha256(final.content).hexdigest()
    assert final_sha == done["documents"][0]["sha256_current"]
    assert final.content.startswith(original[:8])

    # the service's validator: every signature intact, valid, trusted; an archive time-stamp
    report = api.post(
        f"{url}/documents/validate",
        files={"document": ("final.pdf", final.content, "application/pdf")},
        timeout=120,
    ).json()
    assert report["all_valid"], report["summary"]
    assert len(report["signatures"]) == 3
    for sig in report["signatures"]:
        assert sig["intact"] and sig["valid"] and sig["trusted"], sig["summary"]
    assert report["doc_timestamps"], report["summary"]

    # poppler's pdfsig with our root trusted
    root_pem = requests.get(f"{service.url}/pki/ca", timeout=30).text
    first_pem = root_pem.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
    blocks = _pdfsig(final.content, first_pem.encode(), tmp_path)
    sigs = {k: v for k, v in blocks.items() if not k.startswith("Timestamp-")}
    assert len(sigs) == 3, blocks
    for block in sigs.values():
        assert "Signature is Valid." in block, block
        assert "Certificate is Trusted." in block, block
    assert any(k.startswith("Timestamp-") for k in blocks)

    # the evidence: every step of the subject, in order, with the document hashes
    events = api.get(f"{url}/subjects/envelope:{eid}/events", timeout=30).json()["events"]
    types = [e["record"]["type"] for e in events]
    assert types[:3] == ["envelope.created", "envelope.sent", "envelope.link_opened"]
    assert types[-2:] == ["envelope.completed", "envelope.downloaded"]
    for t in ("document_viewed", "code_sent", "code_accepted"):
        assert types.count(f"envelope.{t}") == 3, types
    signed = [e["record"] for e in events if e["record"]["type"] == "envelope.signed"]
    assert [s["actor"]["email"] for s in signed] == [
        "alice@example.test",
        "carol@example.test",
        "bob@example.test",
    ]
    created = events[0]["record"]["data"]
    assert created["documents"][0]["sha256"] == hashlib.sha256(original).hexdigest()
    chain = [created["documents"][0]["sha256"]]
    for s in signed:
        (doc,) = s["data"]["documents"]
        assert doc["sha256_before"] == chain[-1]
        chain.append(doc["sha256_after"])
        assert s["data"]["ip"] == "127.0.0.1"
        assert s["data"]["user_agent"] == f"e2e-browser ({s['actor']['email']})"
    assert chain[-1] == final_sha
    completed = next(e["record"] for e in events if e["record"]["type"] == "envelope.completed")
    assert completed["data"]["documents"][0]["sha256"] == final_sha
    downloaded = events[-1]["record"]
    assert downloaded["actor"]["api_key_prefix"] == key[:10]
    assert downloaded["data"]["sha256"] == final_sha
    for prev, cur in itertools.pairwise(events):
        assert cur["prev_leaf_hash"] == prev["leaf_hash"]

    # codes never appear in an API response or the service's log
    bodies = [m.get_body(preferencelist=("plain",)) for m in mailbox.messages]
    text = "".join(b.get_content() for b in bodies if b is not None)
    codes = re.findall(r"signing code is (\d{6})", text)
    assert len(codes) == 3
    log = service.log_path.read_text()
    dump = json.dumps(events) + log
    for code in codes:
        assert f"code is {code}" not in dump and f'"{code}"' not in dump
