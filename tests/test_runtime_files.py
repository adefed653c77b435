"""Two services on one machine keep their runtime files apart, each under its own home."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.service import BIN, Service, service_env

pytestmark = pytest.mark.slow


def _control(socket: Path, command: str) -> dict:
    out = subprocess.run(
        [str(BIN / "gunicornc"), "-s", str(socket), "-c", command, "-j"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(out.stdout)


def test_two_instances_have_their_own_pid_file_and_control_socket(
    tmp_path: Path, database_url: str
) -> None:
    user_home = tmp_path / "user"  # where gunicorn would put its shared control socket
    user_home.mkdir()
    services = []
    for name, url in (("a", database_url), ("b", f"sqlite:///{tmp_path / 'b' / 'b.db'}")):
        home = tmp_path / name
        home.mkdir(mode=0o700)
        env = service_env(home, url, HOME=str(user_home))
        env.pop("XDG_RUNTIME_DIR", None)
        services.append(Service(home=home, env=env))
    try:
        for svc in services:
            svc.start()
        masters = []
        for svc in services:
            run = svc.home / "run"
            socket, pidfile = run / "gunicorn.ctl", run / "gunicorn.pid"
            assert stat.S_ISSOCK(socket.lstat().st_mode)
            assert stat.S_IMODE(socket.lstat().st_mode) == 0o600
            assert stat.S_IMODE(pidfile.stat().st_mode) == 0o600
            assert stat.S_IMODE(run.stat().st_mode) == 0o700
            master = int(pidfile.read_text())
            assert svc.process is not None and master == svc.process.pid
            masters.append(master)
            # The socket answers for this instance's master: its workers are its children.
            workers = _control(socket, "show workers")["workers"]
            assert len(workers) == 2
            for worker in workers:
                ppid = int(
                    Path(f"/proc/{worker['pid']}/stat").read_text().rsplit(")", 1)[1].split()[1]
                )
                assert ppid == master
        assert masters[0] != masters[1]
        assert not (user_home / ".gunicorn").exists()
    finally:
        for svc in services:
            svc.stop()
    for svc in services:  # a clean stop leaves no stale runtime file behind
        assert not (svc.home / "run" / "gunicorn.pid").exists()
        assert not os.path.exists(svc.home / "run" / "gunicorn.ctl")
