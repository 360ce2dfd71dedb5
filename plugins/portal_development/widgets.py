"""Dashboard panels: for those who keep cases, the pipeline of their unit (counts per stage, what is overdue);
for mentors, the people they mentor."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

from portal import toolkit as tk
from portal_development import board, mentors

MANAGE = "development.manage"


def widgets(account: tk.Account) -> list[tk.Widget]:
    """"Development" for holders of ``development.manage``; "People I mentor" for active mentors."""
    panels = []
    if tk.can(MANAGE, account=account):
        panels += _pipeline(account)
    panels += _mentored(account)
    return panels


def _pipeline(account: tk.Account) -> list[tk.Widget]:
    """The first unit the account keeps cases in (its whole subtree): open cases per stage and the overdue ones."""
    units = tk.manageable_units(MANAGE, account)
    if not units:
        return []
    unit = units[0]
    pipeline = board.pipeline(unit, tk.local_today())
    overdue = sorted({case.id: case for case, _deadline in pipeline.overdue}.values(), key=lambda case: case.id)
    return [tk.Widget(_l("Development"), "development/widget_board.html",
                      {"unit": unit, "stages": pipeline.stages, "overdue": len(pipeline.overdue),
                       "overdue_people": overdue, "waiting": len(pipeline.waiting),
                       "probation_endings": len(pipeline.probation_endings)}, order=46)]


def _mentored(account: tk.Account) -> list[tk.Widget]:
    """The open cases the account's member mentors (one statement); nothing for an account that mentors nobody."""
    if account.member is None:
        return []
    cases = mentors.cases_mentored(account)
    if not cases:
        return []
    return [tk.Widget(_l("People I mentor"), "development/widget_mentor.html", {"cases": cases}, order=47)]
