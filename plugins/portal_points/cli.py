"""``portal points …`` commands."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal import toolkit as tk


@click.group("points")
def points_group():
    """Points: rebuild totals, finalize campaigns."""


@points_group.command("recompute")
@click.option("--member", "member_id", type=int, help="Only this member's totals")
@click.option("--dry-run", is_flag=True, help="Report differences without repairing them")
@with_appcontext
def recompute_command(member_id, dry_run):
    """Rebuild the totals from the ledger and report every difference found."""
    from portal_points.totals import recompute

    if member_id is not None and tk.db.session.get(tk.Member, member_id) is None:
        raise click.BadParameter(f"no member with id {member_id}", param_hint="--member")
    with tk.write_intent():
        report = recompute(member_id, fix=not dry_run)
        for diff in report.differences[:50]:
            click.echo(f"{diff.table} {diff.key}: stored {diff.stored}, ledger says {diff.expected}")
        if report.count > 50:
            click.echo(f"… and {report.count - 50} more")
        if dry_run:
            tk.db.session.rollback()
        else:
            tk.db.session.commit()
    verb = "found" if dry_run else "repaired"
    click.echo(f"Checked {report.checked} totals; {report.count} difference(s) {verb}.")


@points_group.command("finalize")
@with_appcontext
def finalize_command():
    """Give place badges for campaigns that have ended (also done by ``portal alerts scan``)."""
    from portal_points.services import finalize_campaigns

    with tk.write_intent():
        done = finalize_campaigns()
        tk.db.session.commit()
    click.echo(f"{len(done)} campaign(s) finalized.")


@points_group.command("badges-sync")
@with_appcontext
def badges_sync_command():
    """Issue every points badge as an Open Badge (the backfill; running it again changes nothing)."""
    from portal_points.services import sync_open_badges

    with tk.write_intent():
        count = sync_open_badges()
        tk.db.session.commit()
    click.echo(f"{count} points badge(s) issued as Open Badges.")
