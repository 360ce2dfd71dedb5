"""``portal courses …`` commands."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal import toolkit as tk


@click.group("courses", help="The online school's course files.")
def courses_group():
    """The online school's course files."""


@courses_group.command("sync")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@with_appcontext
def sync_command(directory):
    """Create and update courses from course folders (default: the shipped courses/)."""
    from portal_courses.sync import ContentErrors, sync_directory

    try:
        report = sync_directory(directory)
    except ContentErrors as errors:
        for error in errors.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(f"{len(errors.errors)} problem(s) found; nothing was changed.") from None
    while tk.search_drain() > 0:  # update the index now rather than after the process exits
        pass
    click.echo(report.summary())


@courses_group.command("badges-sync")
@with_appcontext
def badges_sync_command():
    """Issue every completion certificate as an Open Badge (the backfill; running it again changes nothing)."""
    from portal_courses.services import sync_certificate_badges

    with tk.write_intent():
        count = sync_certificate_badges()
        tk.db.session.commit()
    click.echo(f"{count} certificate(s) issued as Open Badges.")
