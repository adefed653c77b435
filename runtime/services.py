"""One Sealtrail instance: its settings, database engine, log key and ledger, wired once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine

from evidence_chain import db
from evidence_chain.anchoring.chain import AnchorChain, Signer, Web3Chain
from evidence_chain.anchoring.service import Anchorer, AnchorOptions, AnchorRecords
from evidence_chain.config import Settings
from evidence_chain.errors import ConfigurationError
from evidence_chain.ledger import Ledger
from evidence_chain.logkey import LogKey, load_or_create_private_key

log = logging.getLogger(__name__)


@dataclass
class Instance:
    """The domain services of one instance, shared by the web edge, the CLI and the scheduler."""

    settings: Settings
    engine: Engine
    ledger: Ledger
    anchorer: Anchorer | None = None
    anchors: AnchorRecords = field(init=False)

    def __post_init__(self) -> None:
        self.anchors = AnchorRecords(self.engine)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def initialise(settings: Settings) -> None:
    """Prepare an instance on first start (idempotent): home folder, schema, log key, origin."""
    settings.home.mkdir(parents=True, exist_ok=True)
    db.upgrade(settings.database_url)
    load_or_create_private_key(settings.key_path)
    engine = db.make_engine(settings.database_url)
    try:
        Ledger.ensure_origin(engine, settings.log_origin)
    finally:
        engine.dispose()


def open_instance(settings: Settings, *, chain: AnchorChain | None = None) -> Instance:
    """Open an initialised instance; ConfigurationError if its schema is not up to date.

    With anchoring enabled the chain is the given one, or a web3 chain at the configured RPC
    URL (the local anvil by default); nothing connects to it until it is first used.
    """
    engine = db.make_engine(settings.database_url)
    current = db.current_revision(engine)
    head = db.head_revision()
    if current != head:
        engine.dispose()
        raise ConfigurationError(
            f"the database schema is at {current or 'nothing'}, this code needs {head}: "
            "run `flask --app app init` (or `make run`, which does it)"
        )
    if not settings.key_path.exists():
        engine.dispose()
        raise ConfigurationError(
            f"no log key at {settings.key_path}: run `flask --app app init` first"
        )
    private_key = load_or_create_private_key(settings.key_path)
    origin = Ledger.ensure_origin(engine, settings.log_origin)
    ledger = Ledger(engine, LogKey(origin=origin, private_key=private_key))
    anchorer = (
        build_anchorer(settings, engine, ledger, chain) if settings.anchoring_enabled else None
    )
    return Instance(settings=settings, engine=engine, ledger=ledger, anchorer=anchorer)


def submitter(settings: Settings) -> Signer | None:
    """The submitter key: EVIDENCE_ANCHOR_KEY, a keystore, or anvil's dev key on the local chain."""
    from evidence_chain.anchoring import localchain

    if settings.anchor_key:
        return Signer.from_hex(settings.anchor_key)
    if settings.anchor_keystore is not None:
        return Signer.from_keystore(
            settings.anchor_keystore, settings.anchor_keystore_password or ""
        )
    if settings.local_chain:
        return localchain.dev_signer()
    return None


def contract_address(settings: Settings) -> str | None:
    """EVIDENCE_CONTRACT_ADDRESS, or the deployment recorded for the local chain."""
    from evidence_chain.anchoring import localchain

    if settings.contract_address:
        return settings.contract_address
    if settings.local_chain:
        record = localchain.read_deployment(settings)
        if record is not None:
            return str(record["address"])
    return None


def build_anchorer(
    settings: Settings, engine: Engine, ledger: Ledger, chain: AnchorChain | None = None
) -> Anchorer:
    """Wire the anchoring service of an instance."""
    from evidence_chain.anchoring import localchain

    if chain is None:
        if settings.chain_rpc_url:
            chain = Web3Chain.http(settings.chain_rpc_url, kind="remote")
        else:
            chain = Web3Chain.http(localchain.local_url(settings), kind="local")
    signer = submitter(settings)
    if signer is not None and signer.development_key:
        log.warning("anchoring with the anvil development key: development key, local chain only")
    options = AnchorOptions(
        contract=contract_address(settings),
        expected_chain_id=settings.chain_id,
        confirmations=settings.chain_confirmations,
        max_fee_wei=int(settings.max_fee_gwei * 10**9),
        tx_timeout=settings.tx_timeout,
    )
    return Anchorer(engine, ledger, chain, signer, options)
