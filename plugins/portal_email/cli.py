"""``portal email …`` commands."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("email")
def email_group():
    """E-mail: send the due messages and digests."""


@email_group.command("send")
@with_appcontext
def send_command():
    """Send the due immediate messages and, after the digest hour, the day's digests (cron: every minute)."""
    from portal import toolkit as tk
    from portal_email.sending import send_due

    if not tk.get_manager().is_enabled("email"):
        click.echo("The email plugin is disabled: nothing sent.")
        return
    try:
        report = send_due()
    except RuntimeError as error:  # no PUBLIC_URL: the links could not be written
        raise click.ClickException(str(error)) from None
    click.echo(report.summary())
    for error in dict.fromkeys(report.errors):
        click.echo(f"failed: {error}", err=True)
