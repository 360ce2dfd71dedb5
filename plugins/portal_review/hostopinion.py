"""The host branch's opinion (流入地党组织意见) on a member away from home, asked when the round opens.

The host branch's secretaries (``review.manage`` is host-visible) see the opinions they owe, write one with a
proposed grade and send it back: the home branch's secretaries are told. It can be corrected until the
member is graded or the round is reported.
"""
from __future__ import annotations

from datetime import datetime

from portal.toolkit import gettext as _, lazy_gettext as _l
from sqlalchemy import or_, select

from portal import toolkit as tk
from portal_review.models import GRADES, HostOpinion, ReviewEntry, ReviewRound
from portal_review.settings import setting

db = tk.db
PERMISSION = "review.manage"
#: Round steps in which the host can still give or correct its opinion.
OPEN_STATUSES = ("study", "self", "mutual", "grading")


def owed(account) -> list[HostOpinion]:
    """The opinions ``account`` answers for as a host (review.manage on the host unit) in open rounds.

    Unsubmitted first, then by due day; members already graded are left out (nothing left to give).
    """
    if account is None:
        return []
    query = (select(HostOpinion).join(ReviewEntry, ReviewEntry.id == HostOpinion.entry_id)
             .join(ReviewRound, ReviewRound.id == ReviewEntry.round_id)
             .join(tk.OrgUnit, tk.OrgUnit.id == HostOpinion.host_unit_id)
             .where(ReviewRound.status.in_(OPEN_STATUSES), ReviewEntry.grade.is_(None)))
    if not tk.is_admin(account):
        units = tk.granting_units(PERMISSION, account)
        if not units:
            return []
        query = query.where(or_(*[tk.in_subtree(tk.OrgUnit.path, unit.path) for unit in units]))
    query = query.order_by(HostOpinion.submitted_at.is_not(None), HostOpinion.due_on, HostOpinion.id)
    return list(db.session.scalars(query))


def get_owed(opinion_id: int, account) -> HostOpinion:
    """The opinion when ``account`` answers for its host unit; NotFound otherwise."""
    opinion = db.session.get(HostOpinion, opinion_id) if 0 < opinion_id <= tk.MAX_ID else None
    if opinion is None or account is None or not tk.can(PERMISSION, _host_unit(opinion), account):
        raise tk.NotFound(_("Not found."))
    return opinion


def _host_unit(opinion: HostOpinion) -> tk.OrgUnit:
    return db.session.get(tk.OrgUnit, opinion.host_unit_id)


def _entry(opinion: HostOpinion) -> ReviewEntry:
    return db.session.get(ReviewEntry, opinion.entry_id)


def needs_grade(entry: ReviewEntry) -> bool:
    """Whether the member will be graded (full members; probationary ones only with ``grade_probationary``)."""
    return entry.member.stage == "full" or bool(setting("grade_probationary"))


def _clean(entry: ReviewEntry, text, proposed_grade) -> tuple[str, str | None]:
    errors = {}
    cleaned = text.strip() if isinstance(text, str) else ""
    limit = int(setting("self_max_chars"))
    if not cleaned:
        errors["opinion"] = _("Write the host branch's opinion.")
    elif len(cleaned) > limit:
        errors["opinion"] = _("At most %(count)s characters.", count=limit)
    grade = proposed_grade or None
    if grade is not None and grade not in GRADES:
        errors["proposed_grade"] = _("Choose a grade.")
    elif grade is None and needs_grade(entry):
        errors["proposed_grade"] = _("Propose a grade.")
    elif grade is not None and not needs_grade(entry):
        errors["proposed_grade"] = _("Probationary members receive no grade.")
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    return cleaned, grade


def submit(opinion: HostOpinion, text, proposed_grade, *, actor, now: datetime | None = None) -> HostOpinion:
    """The host branch gives (or corrects) its opinion and proposed grade; the home branch is told.

    NotFound without review.manage on the host unit, Forbidden on one's own entry, Conflict once the member
    is graded or the round is past grading; Invalid for an empty opinion or a missing/unknown grade.
    """
    entry = _entry(opinion)
    tk.require_acting_on(entry.member, PERMISSION, _host_unit(opinion), account=actor)
    tk.lock(opinion)
    if entry.round.status not in OPEN_STATUSES or entry.grade is not None:
        raise tk.Conflict(_("This member's review is already decided; the opinion can no longer change."))
    cleaned, grade = _clean(entry, text, proposed_grade)
    first = opinion.submitted_at is None
    opinion.opinion, opinion.proposed_grade = cleaned, grade
    opinion.submitted_at, opinion.submitted_by_account_id = now or tk.utcnow(), actor.id
    db.session.flush()
    tk.audit("review.host_opinion", "review_entry", entry.id, unit_id=opinion.host_unit_id,
             actor_account_id=actor.id, proposed_grade=grade)
    _tell_home(entry, opinion, first=first)
    return opinion


def _tell_home(entry: ReviewEntry, opinion: HostOpinion, *, first: bool) -> None:
    """Tell the home branch's secretaries that the host's opinion arrived (or changed)."""
    accounts = [account_id for account_id in tk.responsible_accounts(entry.round.unit, PERMISSION)[1]
                if account_id != opinion.submitted_by_account_id]
    if not accounts:
        return
    name = entry.member.name
    title = (_l("The host branch gave its opinion on %(name)s for the annual review.", name=name) if first
             else _l("The host branch changed its opinion on %(name)s for the annual review.", name=name))
    tk.notify(accounts, title, url=_entry_url(entry), kind="review.host_opinion")


def _entry_url(entry: ReviewEntry) -> str:
    """The member's entry page of the round's managers."""
    return tk.path_for("review_manage.entry", round_id=entry.round_id, member_id=entry.member_id)
