"""Operator commands: ``flask --app app <group> <command>``. Thin: parse, call, print."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app import get_instance
from evidence_chain.instance import Instance, initialise
from evidence_chain.tenants import add_key, create_tenant, list_tenants


def _instance() -> Instance:
    return get_instance(current_app._get_current_object())  # type: ignore[attr-defined]


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the instance: folder, database schema, log key."""
    settings = current_app.config["SEALTRAIL_SETTINGS"]
    initialise(settings)
    inst = _instance()
    click.echo(f"instance home: {settings.home}")
    click.echo(f"log origin:    {inst.ledger.key.origin}")
    click.echo(f"log key:       {inst.ledger.key.verifier_key}")


@click.group("tenant", cls=AppGroup)
def tenant_group() -> None:
    """Manage tenants and their API keys."""


@tenant_group.command("create")
@click.argument("name")
def tenant_create(name: str) -> None:
    """Create a tenant; its API key is printed once, as the last line."""
    tenant, key = create_tenant(_instance().engine, name)
    click.echo(f"tenant {tenant.public_id} created: {tenant.name}")
    click.echo("API key (shown once, store it now):")
    click.echo(key)


@tenant_group.command("add-key")
@click.argument("tenant_id")
def tenant_add_key(tenant_id: str) -> None:
    """Issue an additional API key for a tenant (key rotation); printed as the last line."""
    click.echo(add_key(_instance().engine, tenant_id))


@tenant_group.command("list")
def tenant_list() -> None:
    """List tenants."""
    for tenant in list_tenants(_instance().engine):
        click.echo(f"{tenant.public_id}\t{tenant.name}")


@click.group("ledger", cls=AppGroup)
def ledger_group() -> None:
    """Inspect and check the evidence log."""


@ledger_group.command("audit")
def ledger_audit() -> None:
    """Recompute every leaf from its record, rebuild the tree, check every checkpoint."""
    report = _instance().ledger.audit()
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
    cp = _instance().ledger.sign_checkpoint()
    if cp is None:
        click.echo("nothing new to checkpoint")
    else:
        click.echo(f"signed checkpoint at tree size {cp.tree_size}, root {cp.root.hex()}")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(init_command)
    app.cli.add_command(tenant_group)
    app.cli.add_command(ledger_group)
