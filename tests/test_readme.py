"""The README's ``sh`` blocks, run as written against a real service.

A fresh instance is served by gunicorn (as ``make run`` does: embedded anvil chain, scheduler)
on free ports. Every ```` ```sh ```` block of README.md runs, in order, in one bash with
``set -euo pipefail`` (so an unset variable or a failed command in a pipe fails the block),
from a folder that has the repository's ``.venv`` and ``examples`` as a checkout has. Only the
two addresses change: the README's ``127.0.0.1:8000`` and ``127.0.0.1:8545`` become the test's
ports. ``curl`` runs with ``--fail-with-body``, so an HTTP error answer fails its block too.
``console`` blocks (they start the service, or need a person to sign in a browser) are not run.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.service import ROOT, Service, free_port, service_env

pytestmark = pytest.mark.slow

BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def readme_blocks() -> list[tuple[str, str]]:
    """(fence language, text) of every fenced block of the README, in order."""
    return BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_readme_marks_its_blocks() -> None:
    blocks = readme_blocks()
    runnable = [text for lang, text in blocks if lang == "sh"]
    assert len(runnable) >= 10
    assert {lang for lang, _ in blocks} <= {"sh", "console", "python", "yaml"}
    used = set().union(*(re.findall(r"\$\{?([A-Z_]+)", t) for t in runnable))
    assigned = set().union(*(re.findall(r"^([A-Z_]+)=", t, re.M) for t in runnable))
    assert used <= assigned | {"EVENT_ID", "KEY"} and {"KEY", "EVENT_ID"} <= assigned


def test_readme_sh_blocks_run_against_the_service(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "instance"
    home.mkdir()
    chain_port = free_port()
    env = service_env(
        home,
        database_url,
        EVIDENCE_ANCHORING="true",
        EVIDENCE_CHAIN_PORT=str(chain_port),
        EVIDENCE_ANCHOR_INTERVAL="5",
    )
    svc = Service(home=home, env=env)
    svc.start(timeout=120)
    try:
        work = tmp_path / "work"
        work.mkdir()
        (work / ".venv").symlink_to(ROOT / ".venv")
        (work / "examples").symlink_to(ROOT / "examples")
        shims = tmp_path / "bin"
        shims.mkdir()
        curl = shims / "curl"
        curl.write_text('#!/bin/sh\nexec /usr/bin/curl --fail-with-body "$@"\n')
        curl.chmod(0o700)
        script = ["set -euo pipefail"]
        for number, (lang, text) in enumerate(readme_blocks(), start=1):
            if lang != "sh":
                continue
            text = text.replace("http://127.0.0.1:8000", svc.url).replace(
                "http://127.0.0.1:8545", f"http://127.0.0.1:{chain_port}"
            )
            script.append(f'echo "::: README block {number}" >&2\n{text}')
        (tmp_path / "readme.sh").write_text("\n".join(script) + "\n")
        run = subprocess.run(
            ["bash", str(tmp_path / "readme.sh")],
            cwd=work,
            env={
                **env,
                "PORT": str(svc.port),
                "PATH": f"{shims}:{os.environ['PATH']}",
                "PYTHONPATH": str(ROOT),
            },
            capture_output=True,
            text=True,
            timeout=600,
        )
        markers = re.findall(r"::: README block (\d+)", run.stderr)
        assert run.returncode == 0, (
            f"README block {markers[-1] if markers else '?'} failed ({run.returncode}):\n"
            f"{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
        )
        assert len(markers) == sum(1 for lang, _ in readme_blocks() if lang == "sh")
        # what the blocks say they produce
        assert "Signature is Valid." in run.stdout
        assert "is in the log at size" in run.stdout
        assert "\nVERIFIED: report" in run.stdout
        assert (work / "signed.pdf").read_bytes().startswith(b"%PDF")
        assert "audit passed" in run.stdout
    finally:
        svc.stop()
