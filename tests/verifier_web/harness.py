"""Both verifiers behind one interface: the command's ``verify_file`` and the HTML verifier in
headless Chromium (opened from ``file://``, as a court opens it). Each returns an Outcome: the
verdict (or ERROR for a file that is neither a certificate nor a bundle), every check's result,
and for the page every network request it made."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence_chain.errors import ValidationError
from evidence_chain.verify import verify_file

REPO = Path(__file__).resolve().parents[2]
HTML = REPO / "verifier_web" / "build" / "sealtrail-verifier.html"
ERROR = "ERROR"


@dataclass(frozen=True)
class Outcome:
    """What a verifier said about one file."""

    verdict: str
    checks: dict[str, bool | None]
    requests: tuple[str, ...] = ()
    text: str = ""
    failed_list: list[str] = field(default_factory=list)
    status: tuple[str, str | None, str | None] | None = None
    """The subject's lifecycle status: (state, at, reason)."""
    line: str | None = None
    """The verdict with the status beside it, in English."""

    @property
    def failed(self) -> list[str]:
        """The names of the failed checks, in order."""
        return [name for name, ok in self.checks.items() if ok is False]


def command(data: bytes, rpc_url: str | None = None, document: bytes | None = None) -> Outcome:
    """The command's verdict on a file (what ``python -m evidence_chain.verify`` prints).

    Bundles are verified in this process; PDFs by the command itself in a subprocess, since
    pyHanko's validation runs its own event loop and Playwright's holds this thread's.
    """
    if data.startswith(b"%PDF"):
        return _command_process(data, rpc_url, document)
    try:
        result = verify_file(data, rpc_url=rpc_url, document=document)
    except ValidationError as exc:
        return Outcome(ERROR, {}, text=exc.message)
    body = result.to_json(include_bundle=False)
    return Outcome(
        result.verdict,
        {c.name: c.ok for c in result.checks},
        status=_status(body),
        line=body["summary"]["en"],
    )


def _status(body: dict[str, Any]) -> tuple[str, str | None, str | None] | None:
    status = body.get("status")
    if status is None:
        return None
    return (status["state"], status["at"], status["reason"])


def _command_process(data: bytes, rpc_url: str | None, document: bytes | None) -> Outcome:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "file.pdf"
        path.write_bytes(data)
        args = [sys.executable, "-m", "evidence_chain.verify", str(path), "--json"]
        if rpc_url:
            args += ["--rpc", rpc_url]
        if document is not None:
            (Path(tmp) / "document").write_bytes(document)
            args += ["--document", str(Path(tmp) / "document")]
        run = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)
    if run.returncode == 64:
        return Outcome(ERROR, {}, text=run.stderr)
    body = json.loads(run.stdout)
    return Outcome(
        body["verdict"],
        {c["name"]: c["ok"] for c in body["checks"]},
        status=_status(body),
        line=body["summary"]["en"],
    )


class Page:
    """The HTML verifier in one Chromium tab, opened from its file."""

    def __init__(self, browser: Any, html: Path = HTML, fragment: str = "") -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.url = html.as_uri() + fragment
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(self.url)

    def close(self) -> None:
        """Close the tab and its context."""
        self.context.close()

    def verify(
        self,
        data: bytes,
        *,
        name: str = "bundle.json",
        rpc_url: str | None = None,
        document: bytes | None = None,
    ) -> Outcome:
        """Drop a file (and a document) on the page, with the RPC URL typed; read the result."""
        page = self.page
        page.fill("#rpc", rpc_url or "")
        if document is not None:
            page.set_input_files(
                "#document",
                files=[{"name": "document.pdf", "mimeType": "application/pdf", "buffer": document}],
            )
        else:
            page.set_input_files("#document", files=[])
        self.requests.clear()
        mime = "application/pdf" if name.endswith(".pdf") else "application/json"
        page.evaluate("delete document.getElementById('result').dataset.ms")
        page.set_input_files("#file", files=[{"name": name, "mimeType": mime, "buffer": data}])
        page.wait_for_selector("#result[data-ms]", state="attached", timeout=60_000)
        assert not self.errors, self.errors
        requests = tuple(u for u in self.requests if u != self.url)
        if page.is_visible("#error"):
            return Outcome(ERROR, {}, requests, page.inner_text("#error-text"))
        verdict = page.get_attribute("#verdict", "data-verdict") or "?"
        rows = page.eval_on_selector_all(
            "tr[data-check]", "rows => rows.map(r => [r.dataset.check, r.dataset.ok])"
        )
        ok = {"true": True, "false": False, "null": None}
        text = page.inner_text("#output")
        status = None
        if page.query_selector("#lifecycle") is not None:
            state, at, reason = page.eval_on_selector(
                "#lifecycle", "p => [p.dataset.state, p.dataset.at, p.dataset.reason]"
            )
            status = (state, at or None, reason or None)
        line = text.splitlines()[-2]  # the English verdict line, then the Chinese one
        return Outcome(
            verdict, {n: ok[v] for n, v in rows}, requests, text, status=status, line=line
        )

    def elapsed_ms(self) -> int:
        """How long the last verification took, as the page measured it."""
        return int(self.page.get_attribute("#result", "data-ms") or 0)
