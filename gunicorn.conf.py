"""gunicorn settings for ``make run``: one initialisation in the master, then the workers.

Without ``EVIDENCE_CHAIN_RPC_URL`` the master also starts the embedded chain (anvil, state
under ``$EVIDENCE_HOME/chain``), deploys the contract on first start, and stops it on exit.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from evidence_chain.config import load_settings
from evidence_chain.private_files import make_private_dir, restrict_umask
from evidence_chain.redact import install_on_loggers

# Every runtime file of this instance under its EVIDENCE_HOME: two instances on one machine
# (two homes) never share a pid file or a control socket (gunicornc -s $EVIDENCE_HOME/run/...).
restrict_umask()
_run_dir = make_private_dir(load_settings().run_dir)
pidfile = str(_run_dir / "gunicorn.pid")
control_socket = str(_run_dir / "gunicorn.ctl")
control_socket_mode = 0o600
# A Unix socket's path holds at most 107 bytes: a home too deep for one runs without it.
control_socket_disable = len(os.fsencode(control_socket)) > 107
proc_name = f"sealtrail {_run_dir.parent}"

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 120
graceful_timeout = 20
accesslog = "-"
errorlog = "-"


class RedactingLogger(Logger):
    """gunicorn's logger with signer-link tokens, keys and URL credentials redacted from every
    access and error line (the request line, the referer, tracebacks)."""

    def setup(self, cfg: Any) -> None:
        """Set up the handlers as gunicorn does, then filter each of them."""
        super().setup(cfg)
        install_on_loggers(self.error_log, self.access_log)


logger_class = RedactingLogger

_local_chain: Any = None


def on_starting(server: Any) -> None:
    """Create or upgrade the instance once (database, keys, signing authority), and start the
    local chain, before any worker: workers only open what this made."""
    global _local_chain
    from evidence_chain.anchoring.chain import Web3Chain
    from evidence_chain.anchoring.localchain import start_local_chain
    from evidence_chain.errors import ChainError, ConfigurationError
    from runtime import logs
    from runtime.setup import initialise

    # The workers, SQLite and anvil inherit the private umask set above (0600/0700).
    logs.configure()  # the master's own lines (the local chain) at INFO; workers inherit it
    settings = load_settings()
    if server.pidfile is not None:  # gunicorn writes it 0644; everything under the home is 0600
        os.chmod(server.pidfile.fname, 0o600)
    if control_socket_disable:
        server.log.warning(
            "no control socket: %s is longer than a Unix socket path may be", control_socket
        )
    initialise(settings)
    if not settings.anchoring_enabled:
        return
    if settings.local_chain:
        _local_chain = start_local_chain(settings)
        url = _local_chain.url
    else:
        url = settings.chain_rpc_url
    if settings.chain_id is not None:
        try:
            actual = Web3Chain.http(url).chain_id()
        except ChainError as exc:
            server.log.warning("chain not reachable at start (%s); anchoring will retry", exc)
            return
        if actual != settings.chain_id:
            if _local_chain is not None:
                _local_chain.stop()
            raise ConfigurationError(
                f"EVIDENCE_CHAIN_ID is {settings.chain_id} but the node reports chain {actual}"
            )


def on_exit(server: Any) -> None:
    """Stop the local chain this master started (its state is dumped on SIGTERM)."""
    if _local_chain is not None:
        _local_chain.stop()
