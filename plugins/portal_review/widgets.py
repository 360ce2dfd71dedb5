"""Dashboard panels: "My annual review" (what the member has to do now: write the self-assessment, rate n
others) and, for those who run reviews, where each open round of their units stands."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import contains_eager

from portal import toolkit as tk
from portal_review import ratings, results
from portal_review.models import HostOpinion, ReviewEntry, ReviewRound

db = tk.db

#: The steps in which a round is still under way (the secretaries' panel).
OPEN_STEPS = ("study", "self", "mutual", "grading")
#: At most this many rounds on the secretaries' panel (the rounds page lists them all).
PANEL_ROUNDS = 5


def widgets(account: tk.Account) -> list[tk.Widget]:
    """"My annual review" for a member with something to do; "Annual review" for holders of ``review.manage``."""
    found = []
    if account.member is not None:
        found += _mine(account.member)
    if tk.can("review.manage", account=account):
        found += _progress(account)
    return found


def _mine(member: tk.Member) -> list[tk.Widget]:
    """The member's round at self-assessment (not submitted) or mutual assessment (others left to rate)."""
    entry = db.session.scalar(select(ReviewEntry).join(ReviewRound, ReviewRound.id == ReviewEntry.round_id)
                              .options(contains_eager(ReviewEntry.round))  # the round in the same statement
                              .where(ReviewEntry.member_id == member.id, ReviewRound.status.in_(("self", "mutual")))
                              .order_by(ReviewRound.year.desc()).limit(1))
    if entry is None:
        return []
    round_ = entry.round
    context = {"round": round_, "step": round_.status}
    if round_.status == "self":
        if entry.self_submitted_at is not None:
            return []
        context.update(until=round_.self_until, draft=bool(entry.self_text))
    else:
        rated, of = ratings.progress(round_, member)
        if rated >= of:
            return []
        context.update(until=round_.mutual_until, left=of - rated, rated=rated, of=of)
    return [tk.Widget(_l("My annual review"), "review/widget_member.html", context, order=38)]


def _progress(account: tk.Account) -> list[tk.Widget]:
    """The open rounds of the account's units with their figures (two grouped queries)."""
    units = select(tk.OrgUnit.id).where(tk.unit_scope("review.manage", account))
    open_rounds = list(db.session.scalars(select(ReviewRound).where(
        ReviewRound.unit_id.in_(units), ReviewRound.status.in_(OPEN_STEPS))
        .order_by(ReviewRound.year.desc(), ReviewRound.id).limit(PANEL_ROUNDS)).unique())
    if not open_rounds:
        return []
    ids = [round_.id for round_ in open_rounds]
    figures = {row.round_id: row for row in db.session.execute(
        select(ReviewEntry.round_id, func.count(ReviewEntry.id).label("members"),
               func.count(ReviewEntry.self_submitted_at).label("self_done"),
               func.count(ReviewEntry.grade).label("graded"),
               # of those who receive a grade (probationary members usually take part without one)
               func.sum(case((tk.Member.stage.in_(results.graded_stages()), 1), else_=0)).label("gradable"),
               func.sum(case((ReviewEntry.host_unit_id.is_not(None), 1), else_=0)).label("away"))
        .join(tk.Member, tk.Member.id == ReviewEntry.member_id)
        .where(ReviewEntry.round_id.in_(ids)).group_by(ReviewEntry.round_id))}
    opinions = dict(db.session.execute(
        select(ReviewEntry.round_id, func.count(HostOpinion.id))
        .join(ReviewEntry, ReviewEntry.id == HostOpinion.entry_id)
        .where(ReviewEntry.round_id.in_(ids), HostOpinion.submitted_at.is_not(None))
        .group_by(ReviewEntry.round_id)).all())
    rows = [{"round": round_, "members": getattr(figures.get(round_.id), "members", 0),
             "self_done": getattr(figures.get(round_.id), "self_done", 0),
             "graded": getattr(figures.get(round_.id), "graded", 0),
             "gradable": int(getattr(figures.get(round_.id), "gradable", 0) or 0),
             "away": int(getattr(figures.get(round_.id), "away", 0) or 0),
             "opinions": opinions.get(round_.id, 0)} for round_ in open_rounds]
    return [tk.Widget(_l("Annual review"), "review/widget_manage.html", {"rows": rows}, order=39)]
