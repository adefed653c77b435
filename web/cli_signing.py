"""Operator commands of the signing side: ``pki``, ``outbox`` and ``envelopes``.

Thin like every command: parse, call one service, print (JSON with ``--json``).
"""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from web import context
from web.context import services


@click.group("pki", cls=AppGroup)
def pki_group() -> None:
    """Inspect the certificate authority and revoke certificates."""


@pki_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def pki_status(as_json: bool) -> None:
    """CA and TSA subjects, fingerprints, and the number of revoked certificates."""
    status = context.signing().status()
    if as_json:
        click.echo(json.dumps(status, indent=2, ensure_ascii=False))
        return
    for name in ("root", "issuing", "tsa"):
        click.echo(f"{name + ':':9}{status[name]['subject']}")
        click.echo(f"{'':9}sha256 {status[name]['sha256']}")
    click.echo(f"signer certificates issued: {status['signer_certificates']}")
    revoked = status["revoked"]
    click.echo(f"revoked: {revoked['issuing']} by the issuing CA, {revoked['root']} by the root")


@pki_group.command("revoke")
@click.argument("serial")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def pki_revoke(serial: str, as_json: bool) -> None:
    """Revoke a certificate issued by the issuing CA (SERIAL in hex, as in the evidence log)."""
    known = context.signing().revoke(serial)
    if as_json:
        click.echo(json.dumps({"serial": serial, "revoked": True, "known": known}))
        return
    click.echo(f"revoked {serial}" + ("" if known else " (not a signer certificate on record)"))


@click.command("outbox")
@click.option("--to", "to", default=None, help="Only messages to this address or number.")
@click.option("--limit", default=50, show_default=True, help="How many of the newest messages.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per line).")
@with_appcontext
def outbox_command(to: str | None, limit: int, as_json: bool) -> None:
    """Print the notifications kept for the operator (email without SMTP, and every SMS)."""
    from messages.service import read_outbox

    items = read_outbox(context.engine(), to=to, limit=limit)
    for item in items:
        if as_json:
            click.echo(json.dumps(item.to_json(), ensure_ascii=False))
            continue
        click.echo(f"--- #{item.id} {item.created_at.isoformat()} {item.channel} to {item.to}")
        click.echo(f"Subject: {item.subject}")
        click.echo(item.body.rstrip())
    if not items and not as_json:
        click.echo("the outbox is empty")


envelope_group = AppGroup("envelopes", help="Envelope maintenance.")


@envelope_group.command("expire")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def expire_command(as_json: bool) -> None:
    """Expire every open envelope past its expiry now (the scheduler's job does it too)."""
    count = services().envelopes.expire_due()
    if as_json:
        click.echo(json.dumps({"expired": count}))
        return
    click.echo(f"expired {count} envelope(s)")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(pki_group)
    app.cli.add_command(outbox_command)
    app.cli.add_command(envelope_group)
