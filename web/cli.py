"""Operator commands: ``flask --app app <group> <command>``. Thin: parse, call, print.

A command opens only what it needs (``web.context``: the database alone, the log, the
anchorer, or all the services) and imports the heavy libraries (web3, pyHanko, ReportLab)
only then, so the commands that need no chain start quickly. Only ``init`` migrates the
database; only the ``chain`` commands talk to the chain. The answer goes to stdout (as JSON
with ``--json``); log lines go to stderr, at WARNING and above only.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from typing import TYPE_CHECKING, Any

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from evidence_chain.errors import ConfigurationError, EvidenceError
from people.roles import ROLES
from runtime import logs
from web import cli_ops, cli_signing, context
from web.context import services, settings

if TYPE_CHECKING:
    from evidence_chain.anchoring.service import Anchorer
    from evidence_chain.tenants import KeyInfo

json_option = click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")


def echo_json(value: Any) -> None:
    """Print one JSON document (UTF-8 text, Chinese unescaped) on stdout."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


@click.command("init")
@json_option
@with_appcontext
def init_command(as_json: bool) -> None:
    """Create or upgrade the instance: folder, database, log key, signing authority."""
    from cryptography.hazmat.primitives import hashes

    from evidence_chain.private_files import restrict_umask
    from runtime.setup import initialise
    from signing.authority import load_authority

    config = settings()
    restrict_umask()  # whatever this process creates under EVIDENCE_HOME stays private
    initialise(config)
    key = context.ledger().key
    root = load_authority(config).ca.root_cert.fingerprint(hashes.SHA256()).hex()
    if as_json:
        echo_json(
            {
                "home": str(config.home),
                "log_origin": key.origin,
                "log_key": key.verifier_key,
                "root_ca_sha256": root,
            }
        )
        return
    click.echo(f"instance home: {config.home}")
    click.echo(f"log origin:    {key.origin}")
    click.echo(f"log key:       {key.verifier_key}")
    click.echo(f"root CA:       {root} (SHA-256)")


@click.group("tenant", cls=AppGroup)
def tenant_group() -> None:
    """Manage tenants and their API keys."""


@tenant_group.command("create")
@click.argument("name")
@click.option("--owner", "owner", default=None, help="Email of the first user, the owner.")
@json_option
def tenant_create(name: str, owner: str | None, as_json: bool) -> None:
    """Create a tenant (with its owner); print its id, then its API key (shown once) as the
    last line."""
    link = None
    if owner:
        tenant, key, link = services().people.create_tenant_with_owner(name, owner)
    else:
        from evidence_chain.tenants import create_tenant

        tenant, key = create_tenant(context.engine(), name)
    if as_json:
        body: dict[str, Any] = {"id": tenant.public_id, "name": tenant.name, "api_key": key}
        if link is not None:
            body["owner"] = {"email": link.person.email, "set_password_url": link.url}
        echo_json(body)
        return
    click.echo(f"tenant {tenant.public_id} created: {tenant.name}")
    if link is not None:
        click.echo(f"owner {link.person.email}: set a password at {link.url}")
    click.echo("API key (shown once, store it now):")
    click.echo(key)


@click.group("user", cls=AppGroup)
def user_group() -> None:
    """Manage the people who use the console."""


def _echo_link(link: Any, as_json: bool, line: str | None = None) -> None:
    if as_json:
        echo_json(
            {
                "id": link.person.public_id,
                "email": link.person.email,
                "set_password_url": link.url,
                "expires_at": link.expires_at.isoformat(timespec="seconds"),
            }
        )
        return
    if line:
        click.echo(line)
    click.echo(f"set-password link (once, until {link.expires_at:%Y-%m-%d %H:%M} UTC):")
    click.echo(link.url)


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
@json_option
def user_create(email: str, tenant_id: str, role: str, as_json: bool) -> None:
    """Create a user; print the one-time link where they set their password."""
    link = services().people.create_user(email, tenant_id, role)
    _echo_link(link, as_json, f"user {link.person.public_id} created: {link.person.email} ({role})")


@user_group.command("link")
@click.argument("email")
@json_option
def user_link(email: str, as_json: bool) -> None:
    """Print a new one-time set-password link for a user (earlier links stop working)."""
    _echo_link(services().people.new_link(email), as_json)


@tenant_group.command("add-key")
@click.argument("tenant_id")
@click.option("--name", default=None, help="A label for the key (who or what uses it).")
@json_option
def tenant_add_key(tenant_id: str, name: str | None, as_json: bool) -> None:
    """Issue an additional API key for a tenant (key rotation); print only the key."""
    from evidence_chain.tenants import add_key

    key = add_key(context.engine(), tenant_id, name)
    if as_json:
        echo_json({"id": tenant_id, "name": name, "api_key": key})
        return
    click.echo(key)


def _when(value: object) -> str:
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else "-"


def _key_line(key: KeyInfo) -> str:
    state = "active" if key.active else f"revoked {_when(key.revoked_at)}"
    return (
        f"{key.prefix}\t{key.name or '-'}\tcreated {_when(key.created_at)}\t"
        f"last used {_when(key.last_used_at) if key.last_used_at else 'never'}\t{state}"
    )


def _key_json(key: KeyInfo) -> dict[str, Any]:
    return {
        "prefix": key.prefix,
        "name": key.name,
        "active": key.active,
        "created_at": _when(key.created_at),
        "last_used_at": _when(key.last_used_at) if key.last_used_at else None,
        "revoked_at": _when(key.revoked_at) if key.revoked_at else None,
    }


@tenant_group.command("settings")
@click.argument("tenant_id")
@click.option("--language", type=click.Choice(["zh", "en"]), help="Certificates and emails.")
@click.option("--time-zone", "time_zone", help="IANA name, e.g. Asia/Shanghai.")
@click.option(
    "--public-detail/--no-public-detail",
    "public_detail",
    default=None,
    help="Whether /verify shows the subject and timeline of the tenant's documents.",
)
@json_option
def tenant_settings(
    tenant_id: str,
    language: str | None,
    time_zone: str | None,
    public_detail: bool | None,
    as_json: bool,
) -> None:
    """Show a tenant's settings, or change those given (each change logged as an event)."""
    from evidence_chain.tenant_settings import get_settings, update_settings
    from evidence_chain.tenants import tenant_id_of

    engine = context.engine()
    internal = tenant_id_of(engine, tenant_id)
    given = {"language": language, "time_zone": time_zone, "public_detail": public_detail}
    changes = {k: v for k, v in given.items() if v is not None}
    if changes:
        found = update_settings(engine, context.ledger(), internal, changes)
    else:
        found = get_settings(engine, internal)
    if as_json:
        echo_json({"id": tenant_id, **found.to_json()})
        return
    for name, value in found.to_json().items():
        click.echo(f"{name}\t{str(value).lower() if isinstance(value, bool) else value}")


@tenant_group.command("keys")
@click.argument("tenant_id")
@json_option
def tenant_keys(tenant_id: str, as_json: bool) -> None:
    """List a tenant's API keys: prefix, name, created, last used, active or revoked."""
    from evidence_chain.tenants import list_keys_of

    keys = list_keys_of(context.engine(), tenant_id)
    if as_json:
        echo_json({"id": tenant_id, "keys": [_key_json(k) for k in keys]})
        return
    for key in keys:
        click.echo(_key_line(key))


@tenant_group.command("revoke-key")
@click.argument("prefix")
@click.option(
    "--allow-last",
    is_flag=True,
    help="Revoke it even if it is the tenant's last active key (the tenant loses API access).",
)
@json_option
def tenant_revoke_key(prefix: str, allow_last: bool, as_json: bool) -> None:
    """Revoke the API key with this prefix: from the next request on it is refused (401)."""
    from evidence_chain.tenants import revoke_key

    key, tenant = revoke_key(context.engine(), prefix, allow_last=allow_last)
    if as_json:
        echo_json({"tenant": tenant, "key": _key_json(key)})
        return
    click.echo(f"tenant {tenant}: {_key_line(key)}")


@tenant_group.command("list")
@json_option
def tenant_list(as_json: bool) -> None:
    """List tenants, oldest first: id and name, one a line."""
    from evidence_chain.tenants import list_tenants

    tenants = list_tenants(context.engine())
    if as_json:
        echo_json({"tenants": [{"id": t.public_id, "name": t.name} for t in tenants]})
        return
    for tenant in tenants:
        click.echo(f"{tenant.public_id}\t{tenant.name}")


@click.group("ledger", cls=AppGroup)
def ledger_group() -> None:
    """Inspect and check the evidence log."""


@ledger_group.command("audit")
@json_option
def ledger_audit(as_json: bool) -> None:
    """Recompute every leaf from its record, rebuild the tree, check every checkpoint
    (exit 1 on any problem)."""
    report = context.ledger().audit()
    if as_json:
        echo_json(
            {
                "ok": report.ok,
                "tree_size": report.tree_size,
                "leaves_checked": report.leaves_checked,
                "nodes_checked": report.nodes_checked,
                "checkpoints_checked": report.checkpoints_checked,
                "problems": report.problems,
            }
        )
        if not report.ok:
            sys.exit(1)
        return
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
@json_option
def ledger_checkpoint(as_json: bool) -> None:
    """Sign a checkpoint now if the tree grew since the last one."""
    cp = context.ledger().sign_checkpoint()
    if as_json:
        echo_json({"signed": cp is not None, "checkpoint": cp.to_json() if cp else None})
    elif cp is None:
        click.echo("nothing new to checkpoint")
    else:
        click.echo(f"signed checkpoint at tree size {cp.tree_size}, root {cp.root.hex()}")


@click.group("chain", cls=AppGroup)
def chain_group() -> None:
    """Anchor the log on chain: deploy the contract, status, anchor now."""


def _anchorer() -> Anchorer:
    anchorer = context.anchorer()
    if anchorer is None:
        raise click.ClickException("anchoring is disabled (EVIDENCE_ANCHORING=false)")
    return anchorer


@chain_group.command("deploy")
@json_option
def chain_deploy(as_json: bool) -> None:
    """Deploy EvidenceAnchor with the configured submitter key; print its address last."""
    from evidence_chain.anchoring import localchain
    from runtime.services import submitter

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
    if as_json:
        echo_json({"address": address, "chain_id": chain_id, "deployer": signer.address})
        return
    click.echo(f"EvidenceAnchor deployed on chain {chain_id} by {signer.address}")
    if not config.local_chain:
        click.echo("set EVIDENCE_CONTRACT_ADDRESS to the address below")
    click.echo(address)


@chain_group.command("status")
@json_option
def chain_status(as_json: bool) -> None:
    """Network, balance, nonce, last anchor, pending transactions, alarms (exit 2 on an alarm,
    1 if the node is unreachable)."""
    status = _anchorer().status()
    if as_json:
        echo_json(status)
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
@json_option
def chain_anchor_now(timeout: float, as_json: bool) -> None:
    """Sign a checkpoint if the tree grew, anchor the latest one, wait until it is mined."""
    try:
        anchor = _anchorer().anchor_now(timeout=timeout)
    except (EvidenceError, ConfigurationError) as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        echo_json({"anchor": anchor.to_json() if anchor is not None else None})
    elif anchor is None:
        click.echo("nothing to anchor: the log is empty")
    else:
        click.echo(
            f"tree size {anchor.tree_size} anchored: {anchor.status}, "
            f"block {anchor.block_number}, tx {anchor.to_json()['tx_hash']}"
        )


@chain_group.command("resolve-alarm")
@click.argument("alarm_id", type=int)
@json_option
def chain_resolve_alarm(alarm_id: int, as_json: bool) -> None:
    """Mark a chain alarm resolved once an operator has dealt with it."""
    from evidence_chain.anchoring.records import AnchorRecords

    try:
        AnchorRecords(context.engine()).resolve_alarm(alarm_id)
    except EvidenceError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        echo_json({"id": alarm_id, "resolved": True})
        return
    click.echo(f"alarm {alarm_id} resolved")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(init_command)
    app.cli.add_command(tenant_group)
    app.cli.add_command(user_group)
    app.cli.add_command(ledger_group)
    app.cli.add_command(chain_group)
    cli_ops.init_app(app)
    cli_signing.init_app(app)
    for command in app.cli.commands.values():
        _report_errors_cleanly(command)


def _report_errors_cleanly(command: click.Command) -> None:
    """Make a command log at WARNING only (to stderr) and print Sealtrail errors as one line
    and exit 1, not with a traceback."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _report_errors_cleanly(sub)
        return
    callback = command.callback
    if callback is None or getattr(callback, "_reports_cleanly", False):
        return

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        logs.configure(logging.WARNING)
        try:
            return callback(*args, **kwargs)
        except EvidenceError as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from None

    run._reports_cleanly = True  # type: ignore[attr-defined]
    command.callback = run
