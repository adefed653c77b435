"""Operator commands: ``flask --app app <group> <command>``. Thin: parse, call, print."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

import click
from cryptography.hazmat.primitives import hashes
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from evidence_chain.anchoring import localchain
from evidence_chain.anchoring.service import Anchorer
from evidence_chain.errors import ConfigurationError, EvidenceError
from evidence_chain.private_files import restrict_umask
from evidence_chain.tenants import (
    KeyInfo,
    add_key,
    create_tenant,
    list_keys_of,
    list_tenants,
    revoke_key,
)
from people.roles import ROLES
from runtime.services import submitter
from runtime.setup import initialise
from web import cli_ops
from web.context import services, settings


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the instance: folder, database, log key, signing authority."""
    config = settings()
    restrict_umask()  # whatever this process creates under EVIDENCE_HOME stays private
    initialise(config)
    inst = services()
    root = inst.signing.ca.root_cert
    click.echo(f"instance home: {config.home}")
    click.echo(f"log origin:    {inst.ledger.key.origin}")
    click.echo(f"log key:       {inst.ledger.key.verifier_key}")
    click.echo(f"root CA:       {root.fingerprint(hashes.SHA256()).hex()} (SHA-256)")


@click.group("tenant", cls=AppGroup)
def tenant_group() -> None:
    """Manage tenants and their API keys."""


@tenant_group.command("create")
@click.argument("name")
@click.option("--owner", "owner", default=None, help="Email of the first user, the owner.")
def tenant_create(name: str, owner: str | None) -> None:
    """Create a tenant (with its owner); its API key is printed once, as the last line."""
    if owner:
        tenant, key, link = services().people.create_tenant_with_owner(name, owner)
    else:
        tenant, key = create_tenant(services().engine, name)
    click.echo(f"tenant {tenant.public_id} created: {tenant.name}")
    if owner:
        click.echo(f"owner {link.person.email}: set a password at {link.url}")
    click.echo("API key (shown once, store it now):")
    click.echo(key)


@click.group("user", cls=AppGroup)
def user_group() -> None:
    """Manage the people who use the console."""


@user_group.command("create")
@click.argument("email")
@click.option("--tenant", "tenant_id", required=True, help="Public id of the tenant (tn_...).")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="member",
    show_default=True,
    help="Role in the tenant.",
)
def user_create(email: str, tenant_id: str, role: str) -> None:
    """Create a user; print the one-time link where they set their password."""
    link = services().people.create_user(email, tenant_id, role)
    click.echo(f"user {link.person.public_id} created: {link.person.email} ({role})")
    click.echo(f"set-password link (once, until {link.expires_at:%Y-%m-%d %H:%M} UTC):")
    click.echo(link.url)


@user_group.command("link")
@click.argument("email")
def user_link(email: str) -> None:
    """Print a new one-time set-password link for a user (earlier links stop working)."""
    link = services().people.new_link(email)
    click.echo(f"set-password link (once, until {link.expires_at:%Y-%m-%d %H:%M} UTC):")
    click.echo(link.url)


@tenant_group.command("add-key")
@click.argument("tenant_id")
@click.option("--name", default=None, help="A label for the key (who or what uses it).")
def tenant_add_key(tenant_id: str, name: str | None) -> None:
    """Issue an additional API key for a tenant (key rotation); printed as the last line."""
    click.echo(add_key(services().engine, tenant_id, name))


def _when(value: object) -> str:
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else "-"


def _key_line(key: KeyInfo) -> str:
    state = "active" if key.active else f"revoked {_when(key.revoked_at)}"
    return (
        f"{key.prefix}\t{key.name or '-'}\tcreated {_when(key.created_at)}\t"
        f"last used {_when(key.last_used_at) if key.last_used_at else 'never'}\t{state}"
    )


@tenant_group.command("keys")
@click.argument("tenant_id")
def tenant_keys(tenant_id: str) -> None:
    """List a tenant's API keys: prefix, name, created, last used, active or revoked."""
    for key in list_keys_of(services().engine, tenant_id):
        click.echo(_key_line(key))


@tenant_group.command("revoke-key")
@click.argument("prefix")
@click.option(
    "--allow-last",
    is_flag=True,
    help="Revoke it even if it is the tenant's last active key (the tenant loses API access).",
)
def tenant_revoke_key(prefix: str, allow_last: bool) -> None:
    """Revoke the API key with this prefix: from the next request on it is refused (401)."""
    key, tenant = revoke_key(services().engine, prefix, allow_last=allow_last)
    click.echo(f"tenant {tenant}: {_key_line(key)}")


@tenant_group.command("list")
def tenant_list() -> None:
    """List tenants."""
    for tenant in list_tenants(services().engine):
        click.echo(f"{tenant.public_id}\t{tenant.name}")


@click.group("ledger", cls=AppGroup)
def ledger_group() -> None:
    """Inspect and check the evidence log."""


@ledger_group.command("audit")
def ledger_audit() -> None:
    """Recompute every leaf from its record, rebuild the tree, check every checkpoint."""
    report = services().ledger.audit()
    click.echo(
        f"tree size {report.tree_size}: {report.leaves_checked} leaves, "
        f"{report.nodes_checked} nodes, {report.checkpoints_checked} checkpoints checked"
    )
    if report.ok:
        click.echo("audit passed: every record, node and checkpoint matches")
        return
    click.echo(f"audit FAILED: {len(report.problems)} problem(s)", err=True)
    click.echo(f"first problem: {report.problems[0]}", err=True)
    for problem in report.problems[1:50]:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


@ledger_group.command("checkpoint")
def ledger_checkpoint() -> None:
    """Sign a checkpoint now if the tree grew since the last one."""
    cp = services().ledger.sign_checkpoint()
    if cp is None:
        click.echo("nothing new to checkpoint")
    else:
        click.echo(f"signed checkpoint at tree size {cp.tree_size}, root {cp.root.hex()}")


@click.group("chain", cls=AppGroup)
def chain_group() -> None:
    """Anchor the log on chain: deploy the contract, status, anchor now."""


def _anchorer() -> Anchorer:
    anchorer = services().anchorer
    if anchorer is None:
        raise click.ClickException("anchoring is disabled (EVIDENCE_ANCHORING=false)")
    return anchorer


@chain_group.command("deploy")
def chain_deploy() -> None:
    """Deploy EvidenceAnchor with the configured submitter key; print its address."""
    config = settings()
    signer = submitter(config)
    if signer is None:
        raise click.ClickException("no submitter key: set EVIDENCE_ANCHOR_KEY or a keystore")
    anchorer = _anchorer()
    try:
        chain_id = anchorer.chain_id()
        address = anchorer.chain.deploy(signer)
    except EvidenceError as exc:
        raise click.ClickException(exc.message) from None
    if config.local_chain:
        localchain.write_deployment(config, address, chain_id)
    click.echo(f"EvidenceAnchor deployed on chain {chain_id} by {signer.address}")
    if not config.local_chain:
        click.echo("set EVIDENCE_CONTRACT_ADDRESS to the address below")
    click.echo(address)


@chain_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def chain_status(as_json: bool) -> None:
    """Network, balance, nonce, last anchor, pending transactions, alarms (exit 2 on an alarm)."""
    status = _anchorer().status()
    if as_json:
        click.echo(json.dumps(status, indent=2))
    else:
        click.echo(
            f"network:    {status['network']} (chain id {status['chain_id']}, {status['rpc']})"
        )
        click.echo(f"reachable:  {'yes' if status['reachable'] else 'NO: ' + str(status['error'])}")
        click.echo(f"contract:   {status['contract']}")
        click.echo(f"submitter:  {status['submitter']}")
        if status["warning"]:
            click.echo(f"WARNING:    {status['warning']}")
        click.echo(f"balance:    {status['balance_wei']} wei")
        click.echo(f"nonce:      {status['nonce']} (pending {status['pending_nonce']})")
        last = status["last_anchor"]
        if last:
            click.echo(
                f"last anchor: tree size {last['tree_size']}, {last['status']}, "
                f"{last['confirmations']} confirmations, tx {last['tx_hash']}"
            )
        else:
            click.echo("last anchor: none yet")
        for pending in status["pending"]:
            click.echo(f"pending:    tree size {pending['tree_size']} ({pending['status']})")
            for attempt in pending["attempts"]:
                click.echo(
                    f"  tx {attempt['tx_hash']} nonce {attempt['nonce']} {attempt['status']}"
                )
    for alarm in status["alarms"]:
        click.echo(f"ALARM {alarm['id']} {alarm['kind']}: {alarm['message']}", err=True)
    if status["alarms"]:
        sys.exit(2)
    if not status["reachable"]:
        sys.exit(1)


@chain_group.command("anchor-now")
@click.option(
    "--timeout", default=120.0, show_default=True, help="Seconds to wait for the receipt."
)
def chain_anchor_now(timeout: float) -> None:
    """Sign a checkpoint if the tree grew, anchor the latest one, wait until it is mined."""
    try:
        anchor = _anchorer().anchor_now(timeout=timeout)
    except (EvidenceError, ConfigurationError) as exc:
        raise click.ClickException(exc.message) from None
    if anchor is None:
        click.echo("nothing to anchor: the log is empty")
        return
    click.echo(
        f"tree size {anchor.tree_size} anchored: {anchor.status}, block {anchor.block_number}, "
        f"tx {anchor.to_json()['tx_hash']}"
    )


@chain_group.command("resolve-alarm")
@click.argument("alarm_id", type=int)
def chain_resolve_alarm(alarm_id: int) -> None:
    """Mark a chain alarm resolved once an operator has dealt with it."""
    try:
        services().anchors.resolve_alarm(alarm_id)
    except EvidenceError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"alarm {alarm_id} resolved")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(init_command)
    app.cli.add_command(tenant_group)
    app.cli.add_command(user_group)
    app.cli.add_command(ledger_group)
    app.cli.add_command(chain_group)
    cli_ops.init_app(app)
    for command in app.cli.commands.values():
        _report_errors_cleanly(command)


def _report_errors_cleanly(command: click.Command) -> None:
    """Make a command print Sealtrail errors as one line and exit 1, not with a traceback."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _report_errors_cleanly(sub)
        return
    callback = command.callback
    if callback is None or getattr(callback, "_reports_cleanly", False):
        return

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except EvidenceError as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from None

    run._reports_cleanly = True  # type: ignore[attr-defined]
    command.callback = run
