"""Every service of one instance, built once per process and shared by all its users.

The web workers' requests, the CLI commands and the scheduler's jobs use the same
:class:`Services`: one database engine (one pool), one ledger, one anchorer, one signing
service, and so on. Heavy parts stay lazy inside the services themselves (the signing service
opens its CA, TSA and pyHanko on first use; nothing connects to the chain until it is used).
The web edge finds them through ``web.context.services()``; nothing else builds them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from evidence_chain import db
from evidence_chain.config import Settings
from evidence_chain.errors import ConfigurationError

if TYPE_CHECKING:  # the heavy parts (web3, pyHanko, ReportLab) are imported when built, not here
    from evidence_chain.anchoring.chain import AnchorChain, Signer
    from evidence_chain.anchoring.records import AnchorRecords
    from evidence_chain.anchoring.service import Anchorer
    from evidence_chain.blobs import BlobStore
    from evidence_chain.keystore import MasterKey
    from evidence_chain.ledger import Ledger
    from messages.delivery import MailDelivery
    from messages.service import Notifier
    from people.accounts import AccountService
    from people.logins import LoginService
    from signing.envelopes.service import EnvelopeService
    from signing.render import PageRenderer
    from signing.service import SigningService
    from webhooks.service import WebhookService

log = logging.getLogger(__name__)

__all__ = [
    "Services",
    "build_anchorer",
    "build_services",
    "check_schema",
    "contract_address",
    "open_database",
    "open_ledger",
    "submitter",
]


@dataclass
class Services:
    """The services of one instance (see the module's docstring)."""

    settings: Settings
    engine: Engine
    ledger: Ledger
    anchors: AnchorRecords
    anchorer: Anchorer | None
    """None when anchoring is disabled (``EVIDENCE_ANCHORING=false``)."""
    blobs: BlobStore
    master_key: MasterKey
    signing: SigningService
    notifier: Notifier
    mail: MailDelivery | None
    """Sends queued email; None when no SMTP server is configured (messages are kept)."""
    envelopes: EnvelopeService
    webhooks: WebhookService
    pages: PageRenderer
    """Renders signer-page images of PDF pages (cache under ``EVIDENCE_HOME/cache/pages``)."""
    people: AccountService
    """People of the tenants: creation, invitations, passwords, roles."""
    logins: LoginService
    """Console logins, sessions and second factors."""

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def build_services(
    settings: Settings,
    *,
    chain: AnchorChain | None = None,
    notifier: Notifier | None = None,
    blobs: BlobStore | None = None,
) -> Services:
    """Open an initialised instance's services; ConfigurationError if it is not initialised.

    With anchoring enabled the chain is the given one, or a web3 chain at the configured RPC
    URL (the local anvil by default). ``notifier`` and ``blobs`` replace the configured ones
    (tests, and operators embedding Sealtrail).
    """
    from evidence_chain.anchoring.records import AnchorRecords
    from evidence_chain.blobs import blob_store_for
    from evidence_chain.keystore import load_master_key
    from messages.delivery import MailDelivery
    from messages.service import notifier_for
    from people.accounts import AccountService
    from people.logins import LoginService
    from signing.envelopes.service import EnvelopeService
    from signing.render import PageRenderer
    from signing.service import SigningService
    from webhooks.service import WebhookService

    engine = open_engine(settings)
    ledger = open_ledger(settings, engine)
    anchorer = (
        build_anchorer(settings, engine, ledger, chain) if settings.anchoring_enabled else None
    )
    master_key = load_master_key(settings)  # only opened: `init` makes it
    signing = SigningService.from_env(settings, engine, ledger)
    blobs = blobs or blob_store_for(settings.home, settings.blob_url)
    notifier = notifier or notifier_for(settings)
    return Services(
        settings=settings,
        engine=engine,
        ledger=ledger,
        anchors=AnchorRecords(engine),
        anchorer=anchorer,
        blobs=blobs,
        master_key=master_key,
        signing=signing,
        notifier=notifier,
        mail=MailDelivery.for_settings(settings, engine),
        envelopes=EnvelopeService(
            settings, engine, ledger, lambda: signing, blobs=blobs, notifier=notifier
        ),
        webhooks=WebhookService(engine, master_key, allow_private=settings.webhook_allow_private),
        pages=PageRenderer.for_home(settings.home),
        people=AccountService(engine, ledger, notifier, settings.public_base_url),
        logins=LoginService(engine, ledger, master_key),
    )


def open_engine(settings: Settings) -> Engine:
    """The instance's engine; ConfigurationError unless its schema is up to date and its files
    (log key, signing authority, session key) are present and fit together. Nothing is made
    here: a worker or command refuses to start, naming the file, instead."""
    from runtime.setup import check_initialised

    engine = open_database(settings)
    try:
        check_initialised(settings)
    except ConfigurationError:
        engine.dispose()
        raise
    return engine


def open_ledger(settings: Settings, engine: Engine) -> Ledger:
    """The evidence log on ``engine``, signing with the instance's log key."""
    from evidence_chain.ledger import Ledger
    from evidence_chain.logkey import LogKey, load_private_key

    private_key = load_private_key(settings.key_path)
    origin = Ledger.ensure_origin(engine, settings.log_origin)
    return Ledger(engine, LogKey(origin=origin, private_key=private_key))


def open_database(settings: Settings) -> Engine:
    """The instance's engine alone, its schema checked (for commands that need nothing else)."""
    engine = db.make_engine(settings.database_url)
    try:
        check_schema(engine)
    except ConfigurationError:
        engine.dispose()
        raise
    return engine


def check_schema(engine: Engine) -> None:
    """ConfigurationError unless the database's schema is the one this code needs."""
    current = db.current_revision(engine)
    head = db.head_revision()
    if current != head:
        raise ConfigurationError(
            f"the database schema is at {current or 'nothing'}, this code needs {head}: "
            "run `flask --app app init` (or `make run`, which does it)"
        )


def submitter(settings: Settings) -> Signer | None:
    """The submitter key: EVIDENCE_ANCHOR_KEY, a keystore, or anvil's dev key on the local chain."""
    from evidence_chain.anchoring import localchain
    from evidence_chain.anchoring.chain import Signer

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
    """The anchoring service, its status changes queued as webhooks in their transaction."""
    from evidence_chain.anchoring import localchain
    from evidence_chain.anchoring.chain import Web3Chain
    from evidence_chain.anchoring.service import Anchorer, AnchorOptions
    from webhooks import delivery as webhooks

    if chain is None:
        if settings.chain_rpc_url:
            chain = Web3Chain.http(settings.chain_rpc_url, kind="remote")
        else:
            chain = Web3Chain.http(localchain.local_url(settings), kind="local")
    signer = submitter(settings)
    if signer is not None and signer.development_key:
        # The master says so once at start (WARNING, as it starts the local chain); here it is
        # said at INFO, not again on stderr by every command and every worker.
        log.info("anchoring with the anvil development key: development key, local chain only")
    options = AnchorOptions(
        contract=contract_address(settings),
        expected_chain_id=settings.chain_id,
        confirmations=settings.chain_confirmations,
        max_fee_wei=int(settings.max_fee_gwei * 10**9),
        tx_timeout=settings.tx_timeout,
    )
    return Anchorer(
        engine, ledger, chain, signer, options, listeners=[webhooks.anchor_status_changed]
    )
