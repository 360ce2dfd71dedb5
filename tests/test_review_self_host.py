"""The self-assessment (draft, submit, the step's end) and the host branch's opinion (owed, submit, notify)."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from portal import toolkit as tk
from portal.audit.models import AuditEntry
from portal.notify.models import Notification
from portal_review import hostopinion, rounds, selfassess
from portal_review.models import HostOpinion, ReviewEntry

NOW = datetime(2026, 11, 30, 2, 0)


@pytest.fixture
def round_(db, org):
    """The home branch's round of this year, at study (member1 away at host: an opinion is asked)."""
    return rounds.open_round(org.home, tk.local_today().year, actor=org.home_sec)


def _entry(round_, member) -> ReviewEntry:
    return tk.db.session.scalar(select(ReviewEntry).where(ReviewEntry.round_id == round_.id,
                                                          ReviewEntry.member_id == member.id))


def _opinion(round_, member) -> HostOpinion:
    return tk.db.session.scalar(select(HostOpinion).where(HostOpinion.entry_id == _entry(round_, member).id))


# --- self-assessment ----------------------------------------------------------------------------------------

def test_draft_then_submit_then_replace(db, org, round_):
    entry = _entry(round_, org.member2)
    assert selfassess.state(entry) == "empty"
    selfassess.save_draft(entry, "  First lines ", now=NOW, member=org.member2)
    assert (entry.self_text, entry.self_saved_at, entry.self_submitted_at) == ("First lines", NOW, None)
    assert selfassess.state(entry) == "draft"
    selfassess.save_draft(entry, "First lines, more", now=NOW, member=org.member2)  # upsert: the same entry
    assert entry.self_text == "First lines, more" and selfassess.state(entry) == "draft"
    selfassess.submit(entry, "What I did this year.", now=NOW, member=org.member2)
    assert entry.self_submitted_at == NOW and selfassess.state(entry) == "submitted"
    with pytest.raises(tk.Conflict):  # autosave no longer changes a submitted one
        selfassess.save_draft(entry, "sneaky", now=NOW, member=org.member2)
    selfassess.submit(entry, "What I did this year, corrected.", member=org.member2)
    assert entry.self_text == "What I did this year, corrected."


def test_self_assessment_refusals(db, org, round_):
    entry = _entry(round_, org.member2)
    with pytest.raises(tk.Forbidden):
        selfassess.save_draft(entry, "Not mine", member=org.member1)
    with pytest.raises(tk.Invalid) as empty:
        selfassess.submit(entry, "   ", member=org.member2)
    assert "text" in empty.value.field_errors
    with pytest.raises(tk.Invalid):
        selfassess.submit(entry, "x" * 5001, member=org.member2)
    with pytest.raises(tk.Invalid):
        selfassess.save_draft(entry, ["not", "text"], member=org.member2)
    selfassess.submit(entry, "x" * 5000, member=org.member2)  # the limit itself is fine


def test_self_assessment_closes_after_the_self_step(db, org, round_):
    entry = _entry(round_, org.member2)
    rounds.move(round_, "self", actor=org.home_sec)
    selfassess.save_draft(entry, "Still writing", member=org.member2)
    rounds.move(round_, "mutual", actor=org.home_sec)
    with pytest.raises(tk.Conflict):
        selfassess.submit(entry, "Too late", member=org.member2)
    with pytest.raises(tk.Conflict):
        selfassess.save_draft(entry, "Too late", member=org.member2)
    db.session.expire_all()
    assert _entry(round_, org.member2).self_text == "Still writing"


# --- host opinion ---------------------------------------------------------------------------------------------

def test_owed_lists_the_host_secretarys_opinions_only(db, org, round_):
    opinion = _opinion(round_, org.member1)
    assert opinion is not None and opinion.host_unit_id == org.host.id
    assert hostopinion.owed(org.host_sec) == [opinion]
    assert hostopinion.owed(org.home_sec) == [] and hostopinion.owed(org.foreign_sec) == []
    assert hostopinion.owed(org.member2.account) == [] and hostopinion.owed(None) == []
    assert hostopinion.get_owed(opinion.id, org.host_sec) is opinion
    with pytest.raises(tk.NotFound):
        hostopinion.get_owed(opinion.id, org.home_sec)


def test_submit_tells_the_home_branch(db, org, round_):
    opinion = _opinion(round_, org.member1)
    before = db.session.query(Notification).filter_by(account_id=org.home_sec.id).count()
    hostopinion.submit(opinion, "  Active in the host branch's volunteering. ", "excellent", actor=org.host_sec,
                       now=NOW)
    db.session.commit()
    assert (opinion.opinion, opinion.proposed_grade, opinion.submitted_at, opinion.submitted_by_account_id) == (
        "Active in the host branch's volunteering.", "excellent", NOW, org.host_sec.id)
    told = db.session.query(Notification).filter_by(account_id=org.home_sec.id).all()
    assert len(told) == before + 1 and org.member1.name in told[-1].title
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "review.host_opinion")) is not None
    hostopinion.submit(opinion, "Corrected.", "qualified", actor=org.host_sec)  # editable until graded
    assert opinion.proposed_grade == "qualified"
    assert hostopinion.owed(org.host_sec) == [opinion]  # submitted, still listed (it can still be corrected)


def test_submit_refusals(db, org, round_, factory):
    opinion = _opinion(round_, org.member1)
    with pytest.raises(tk.NotFound):  # the home branch does not write the host's opinion
        hostopinion.submit(opinion, "Fine.", "qualified", actor=org.home_sec)
    with pytest.raises(tk.NotFound):
        hostopinion.submit(opinion, "Fine.", "qualified", actor=org.foreign_sec)
    factory.grant(org.member1.account, "secretary", org.host)
    with pytest.raises(tk.Forbidden):  # never on one's own entry
        hostopinion.submit(opinion, "I am great.", "excellent", actor=org.member1.account)
    with pytest.raises(tk.Invalid) as bad:
        hostopinion.submit(opinion, " ", "superb", actor=org.host_sec)
    assert set(bad.value.field_errors) == {"opinion", "proposed_grade"}
    with pytest.raises(tk.Invalid) as no_grade:
        hostopinion.submit(opinion, "Fine.", None, actor=org.host_sec)
    assert "proposed_grade" in no_grade.value.field_errors
    entry = _entry(round_, org.member1)
    entry.grade = "qualified"
    db.session.commit()
    with pytest.raises(tk.Conflict):  # graded: the opinion is part of the record now
        hostopinion.submit(opinion, "Late.", "qualified", actor=org.host_sec)
    assert hostopinion.owed(org.host_sec) == []


def test_probationary_member_away_gets_an_opinion_without_a_grade(db, org, factory):
    trainee = factory.member(org.home, "trainee", host=org.host, name="陈晨", stage="probationary")
    round_ = rounds.open_round(org.home, tk.local_today().year, actor=org.home_sec)
    opinion = _opinion(round_, trainee)
    with pytest.raises(tk.Invalid):
        hostopinion.submit(opinion, "Keen.", "excellent", actor=org.host_sec)
    hostopinion.submit(opinion, "Keen.", "", actor=org.host_sec)
    assert opinion.proposed_grade is None and opinion.submitted_at is not None
    tk.set_setting("review", "grade_probationary", True)
    with pytest.raises(tk.Invalid):  # graded like full members now: a grade is needed
        hostopinion.submit(opinion, "Keen.", None, actor=org.host_sec)
