"""``portal quizzes import FILE --format gift|aiken [--category PATH]`` and ``portal quizzes export``."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext


@click.group("quizzes")
def quizzes_group():
    """The question bank: import and export questions."""


@quizzes_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["gift", "aiken"]), default="gift", show_default=True)
@click.option("--category", default="", help="Category path to import under, e.g. 每日答题/党费")
@with_appcontext
def import_command(file: Path, fmt: str, category: str):
    """Import a GIFT or Aiken file; on any problem print file:line: message and import nothing."""
    from portal import toolkit as tk
    from portal_quizzes import formats, services

    with tk.write_intent():
        try:
            text = services.decode_upload(file.read_bytes(), str(file))
            result = services.import_text(text, fmt, str(file), services.parse_category_option(category))
        except formats.FormatError as error:
            tk.db.session.rollback()
            for problem in error.problems:
                click.echo(str(problem), err=True)
            click.echo(f"Nothing imported: {len(error.problems)} problem(s).", err=True)
            sys.exit(1)
        tk.db.session.commit()
    per_type = ", ".join(f"{qtype} {count}" for qtype, count in sorted(result.counts.items()))
    click.echo(f"Imported {result.total} questions ({per_type}); {result.created} new, {result.updated} updated, "
               f"{result.unchanged} unchanged.")


@quizzes_group.command("export")
@click.option("--category", default="", help="Only this category (and its sub-categories)")
@with_appcontext
def export_command(category: str):
    """Write the question bank as GIFT to standard output."""
    from portal import toolkit as tk
    from portal_quizzes import services
    from portal_quizzes.models import Category
    from sqlalchemy import select

    cat = None
    if category:
        path = services.category_path_text(services.parse_category_option(category))
        cat = tk.db.session.scalar(select(Category).where(Category.path == path))
        if cat is None:
            raise click.ClickException(f"No category {category!r}")
    questions = tk.db.session.scalars(services.bank_query(cat)).all()
    click.echo(services.export_questions(questions), nl=False)
