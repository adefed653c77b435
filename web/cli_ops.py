"""Operator commands for backups: ``flask --app app backup DEST`` and ``restore SRC``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from evidence_chain.errors import ChainError
from evidence_chain.private_files import restrict_umask
from web.context import services, settings


@click.command("backup")
@with_appcontext
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the manifest's summary as JSON.")
def backup_command(dest: Path, as_json: bool) -> None:
    """Back the instance up into the new folder DEST while it runs (database, blobs, keys)."""
    from runtime.backup import take_backup  # imported when used: the other commands stay fast

    restrict_umask()
    started = time.monotonic()
    backup = take_backup(settings(), dest)
    figures = backup.figures
    summary = {
        "path": str(backup.path),
        "files": len(backup.manifest["files"]),
        "bytes": backup.size,
        "seconds": round(time.monotonic() - started, 3),
        "tree_size": figures["tree_size"],
        "last_checkpoint": figures["last_checkpoint"],
        "last_anchored_tree_size": figures["last_anchored_tree_size"],
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    checkpoint = figures["last_checkpoint"]
    click.echo(f"backup written to {backup.path}")
    click.echo(f"files:      {summary['files']} ({summary['bytes']} bytes)")
    click.echo(f"tree size:  {figures['tree_size']}")
    click.echo(
        "checkpoint: "
        + (f"{checkpoint['tree_size']} ({checkpoint['signed_at']})" if checkpoint else "none")
    )
    click.echo(f"anchored:   {figures['last_anchored_tree_size'] or 'none'}")
    click.echo(
        "events acknowledged from now on are not in this backup; see docs/operations.md",
        err=True,
    )


@click.command("restore")
@with_appcontext
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace an instance that is not empty.")
def restore_command(src: Path, force: bool) -> None:
    """Restore the backup SRC into this (stopped) instance, then audit it and check the chain.

    Exit 1 if the restored log fails its audit, 2 if the chain holds a checkpoint of this log
    larger than the restored log (entries acknowledged after the backup were lost).
    """
    from runtime.backup import restore_backup
    from runtime.setup import check_initialised

    restrict_umask()
    config = settings()
    backup = restore_backup(config, src, force=force)
    check_initialised(config)
    figures = backup.figures
    click.echo(f"restored {backup.path} (taken {backup.manifest['started_at']})")
    click.echo(f"tree size:  {figures['tree_size']}")
    inst = services()
    report = inst.ledger.audit()
    if not report.ok:
        click.echo(f"audit FAILED: {report.problems[0]}", err=True)
        sys.exit(1)
    click.echo(f"audit:      passed ({report.leaves_checked} leaves)")
    if inst.anchorer is None:
        return
    try:
        alarm = inst.anchorer.check_against_chain()
    except ChainError as exc:
        click.echo(f"chain:      not checked ({exc.message}); run `chain status` later", err=True)
        return
    if alarm is not None:
        click.echo(f"ALARM {alarm['kind']}: {alarm['message']}", err=True)
        sys.exit(2)
    click.echo("chain:      no anchor beyond the restored log")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
