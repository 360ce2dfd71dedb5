"""Anonymous mutual assessment (民主测评): rate a member of one's round, replace it, count the ratings.

A rating row never names its rater. It is found again only through ``rater_key`` = HMAC-SHA256 of
"<rater member id>:<ratee member id>" under the round's ``ballot_secret``; once the round moves past
``mutual`` the secret is destroyed (``rounds.move``) and no key can be recomputed: a rating can then be
neither replaced nor traced. The routes that call :func:`rate` are ``tk.unrecorded_post`` and nothing here
writes an audit entry, an activity or a notification; only the day is kept, never the time.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import date

from portal.toolkit import gettext as _
from sqlalchemy import func, select

from portal import toolkit as tk
from portal_review.models import GRADES, Rating, ReviewEntry, ReviewRound
from portal_review.settings import setting

db = tk.db


def rater_key(secret: str, rater_member_id: int, ratee_member_id: int) -> str:
    """The key that finds the rater's rating of the ratee again, meaningless without ``secret``."""
    message = f"{rater_member_id}:{ratee_member_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def member_ids(round_: ReviewRound) -> list[int]:
    """The members of the round (everyone who rates and is rated), by id."""
    return list(db.session.scalars(select(ReviewEntry.member_id).where(ReviewEntry.round_id == round_.id)
                                   .order_by(ReviewEntry.member_id)))


def _check_open(round_: ReviewRound, today: date) -> None:
    """Conflict unless mutual assessment is open on ``today`` (status and window)."""
    if round_.status != "mutual" or round_.ballot_secret is None:
        raise tk.Conflict(_("Mutual assessment is not open in this round."))
    if round_.mutual_from is not None and today < round_.mutual_from:
        raise tk.Conflict(_("Mutual assessment opens on %(day)s.", day=tk.fmt_date(round_.mutual_from)))
    if round_.mutual_until is not None and today > round_.mutual_until:
        raise tk.Conflict(_("Mutual assessment closed on %(day)s.", day=tk.fmt_date(round_.mutual_until)))


def _clean(rating, comment) -> tuple[str, str]:
    """The rating and comment as stored; Invalid with per-field messages otherwise."""
    errors = {}
    if rating not in GRADES:
        errors["rating"] = _("Choose a rating.")
    if comment is not None and not isinstance(comment, str):
        errors["comment"] = _("Enter text.")
    text = comment.strip() if isinstance(comment, str) else ""
    limit = int(setting("comment_max_chars"))
    if len(text) > limit:
        errors["comment"] = _("At most %(count)s characters.", count=limit)
    if errors:
        raise tk.Invalid(_("Please correct the marked fields."), errors)
    return rating, text


def rate(round_: ReviewRound, rater_member: tk.Member, ratee_member_id, rating, comment="", *,
         today: date | None = None) -> Rating:
    """``rater_member`` rates ``ratee_member_id`` in ``round_``; a second rating of the same member replaces the first.

    Both must be members of the round (the rater: Forbidden; the ratee: Invalid on ``member_id``); rating
    oneself is Invalid; Conflict outside the mutual-assessment step or its window. Returns the rating row
    (the same row when replaced). Nothing else is written: no audit, activity or notification.
    """
    today = today or tk.local_today()
    tk.lock(round_)  # queue concurrent ratings of the round: the upsert below reads then writes
    _check_open(round_, today)
    members = set(member_ids(round_))
    if rater_member is None or rater_member.id not in members:
        raise tk.Forbidden(_("Only the members of this round can rate."))
    if isinstance(ratee_member_id, bool) or not isinstance(ratee_member_id, int) or ratee_member_id not in members:
        raise tk.Invalid(_("Please correct the marked fields."), {"member_id": _("Choose a member of this round.")})
    if ratee_member_id == rater_member.id:
        raise tk.Invalid(_("You cannot rate yourself."), field="member_id")
    rating, text = _clean(rating, comment)
    key = rater_key(round_.ballot_secret, rater_member.id, ratee_member_id)
    row = db.session.scalar(select(Rating).where(Rating.round_id == round_.id, Rating.rater_key == key))
    if row is None:
        row = Rating(round_id=round_.id, ratee_member_id=ratee_member_id, rater_key=key)
        db.session.add(row)
    row.rating, row.comment, row.rated_on = rating, text, today
    db.session.flush()
    return row


def tallies(round_: ReviewRound, members: list[int] | None = None, *, comments: bool = True) -> dict[int, dict]:
    """Per member of the round: ``{grade: n for each grade, "count": n, "comments": [sorted texts]}``.

    Comments are sorted so that their order says nothing about when (or by whom) they were written.
    ``members``: only these members' tallies (each whole), e.g. a page of the round's list.
    ``comments=False``: the counts alone, without the ``"comments"`` key (one statement fewer: the round's
    table shows no comment).
    """
    empty = _empty if comments else _counts_only
    result = {member_id: empty() for member_id in (member_ids(round_) if members is None else members)}
    ours = [Rating.round_id == round_.id] + ([] if members is None else [Rating.ratee_member_id.in_(members)])
    counts = db.session.execute(select(Rating.ratee_member_id, Rating.rating, func.count(Rating.id))
                                .where(*ours).group_by(Rating.ratee_member_id, Rating.rating)).all()
    for member_id, rating, n in counts:
        tally = result.setdefault(member_id, empty())
        tally[rating] = tally.get(rating, 0) + n
        tally["count"] += n
    if not comments:
        return result
    texts = db.session.execute(select(Rating.ratee_member_id, Rating.comment)
                               .where(*ours, Rating.comment != "")).all()
    for member_id, text in texts:
        result.setdefault(member_id, _empty())["comments"].append(text)
    for tally in result.values():
        tally["comments"].sort()
    return result


def _counts_only() -> dict:
    return {**{grade: 0 for grade in GRADES}, "count": 0}


def _empty() -> dict:
    return {**_counts_only(), "comments": []}


def progress(round_: ReviewRound, rater_member: tk.Member) -> tuple[int, int]:
    """``(rated, of)``: how many of the round's other members ``rater_member`` has rated, out of how many.

    Found by recomputing the caller's keys; once the secret is destroyed nobody can, and ``rated`` is 0.
    ``(0, 0)`` for someone who is not a member of the round.
    """
    members = member_ids(round_)
    if rater_member is None or rater_member.id not in members:
        return 0, 0
    others = [member_id for member_id in members if member_id != rater_member.id]
    if round_.ballot_secret is None or not others:
        return 0, len(others)
    keys = [rater_key(round_.ballot_secret, rater_member.id, member_id) for member_id in others]
    rated = db.session.scalar(select(func.count(Rating.id)).where(Rating.round_id == round_.id,
                                                                  Rating.rater_key.in_(keys))) or 0
    return rated, len(others)


def others(entry: ReviewEntry) -> list[ReviewEntry]:
    """The other members of ``entry``'s round (whom its member rates), by name."""
    return sorted((other for other in entry.round.entries if other.member_id != entry.member_id),
                  key=lambda other: other.member.name)


def rated_ids(round_: ReviewRound, rater_member: tk.Member) -> dict[int, Rating]:
    """The caller's own ratings in the round, by ratee (to show "rated" and prefill the form); empty once closed."""
    if round_.ballot_secret is None or rater_member is None:
        return {}
    keys = {rater_key(round_.ballot_secret, rater_member.id, member_id): member_id
            for member_id in member_ids(round_) if member_id != rater_member.id}
    rows = db.session.scalars(select(Rating).where(Rating.round_id == round_.id, Rating.rater_key.in_(list(keys))))
    return {keys[row.rater_key]: row for row in rows}
