"""Demo data: development cases at every stage in the home village branch, and one worker away in Shenzhen.

Every case is built through the services (``cases``, ``mentors``, ``vetting``, ``notices``, ``training``) by the
accounts that take the steps in life — the home branch's secretary, the host branch's secretary for its side
of the vetting, the county's organizer for the committee's steps — so the demo obeys every rule: each step
after its prerequisites, every waiting time met, with dates in the past counted back from today.

* an applicant who applied 40 days ago and has not been talked to (the board shows it overdue);
* an activist of almost a year with a mentor and two half-yearly assessments;
* a candidate with introducers, the political review and the training done;
* a candidate in public notice, with an objection received and resolved;
* a probationary member whose probation ends within 60 days (the board lists her);
* a full member, every step recorded up to the committee's approval of full membership;
* an applicant who withdrew;
* a worker away in Shenzhen: an activist turned candidate with a mentor at work (the demo's member1, hosted
  in Shenzhen) and the host side's vetting asked and not yet answered (the board shows it waiting).

Also a training class of the home branch and this year's plan. Idempotent: nothing is added when the home
branch already keeps a case.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from portal import toolkit as tk
from portal_development import board, cases, mentors, notices, training, vetting
from portal_development.vocabulary import STEP_BY_CODE
from portal_development.models import DevCase, TrainingClass

db = tk.db
#: The area code and birth days the demo's ID numbers start with (吉安市, people born in the late 1990s).
AREA = "360821"
#: Days before today each case applied (see the module's docstring for what each reaches).
APPLIED_DAYS_AGO = {"applicant": 40, "activist": 400, "candidate": 460, "notice": 490, "probationary": 795,
                    "full": 1000, "withdrawn": 70, "away": 440}
#: Days between a mentor's half-yearly assessments.
ASSESSMENT_EVERY = 150
TALLY = {"entitled": 21, "present": 17, "by_video": 2, "ballots_issued": 17, "ballots_returned": 17, "yes": 16,
         "no": 0, "abstain": 1, "written_yes": 3, "written_no": 0, "written_abstain": 0}
PEOPLE = {"applicant": ("刘晓燕", "19990312"), "activist": ("陈志强", "19970521"), "candidate": ("黄丽萍", "19960815"),
          "notice": ("周建华", "19950203"), "probationary": ("吴秀英", "19980627"), "full": ("郑海涛", "19941109"),
          "withdrawn": ("孙明", "20000118"), "away": ("赵磊", "19970930")}


@dataclass
class Cast:
    """Who takes the steps: the branch, the host branch, the committee; the members who mentor and introduce."""

    branch: tk.Account
    host: tk.Account
    committee: tk.Account
    mentor: tk.Member
    work_mentor: tk.Member | None
    introducers: list[int]
    today: date


def _id_number(index: int, born: str) -> str:
    """A valid national ID number for the demo's person ``index`` (the check character found by the validator)."""
    body = f"{AREA}{born}{index + 100:03d}"
    for check in "0123456789X":
        try:
            return tk.normalize_id_number(body + check)
        except ValueError:
            continue
    raise ValueError(body)


def _step(case: DevCase, cast: Cast, code: str, on: date, notes: str = "", data: dict | None = None,
          actor: tk.Account | None = None) -> None:
    committee = STEP_BY_CODE[code].actor == "committee"
    cases.record_step(case, code, on, actor=actor or (cast.committee if committee else cast.branch), notes=notes,
                      data=data, today=cast.today)


def _open(unit: tk.OrgUnit, cast: Cast, part: str, index: int, **extra) -> DevCase:
    name, born = PEOPLE[part]
    applied = cast.today - timedelta(days=APPLIED_DAYS_AGO[part])
    return cases.open_case(unit, applied, actor=cast.branch, name=name, id_number=_id_number(index, born),
                           phone=f"1397960{index:04d}", household_place="青山县东岭村", today=cast.today, **extra)


def _to_activist(case: DevCase, cast: Cast, assessments: int = 2) -> date:
    """Talk, activist decision and filing, the home mentor and the assessments; returns the activist day."""
    start = case.applied_on
    _step(case, cast, "talk", start + timedelta(days=12), "支部书记与其谈话，了解入党动机。")
    activist_on = start + timedelta(days=40)
    cases.advance(case, "activist", activist_on, actor=cast.branch, notes="党员推荐、支委会研究确定为入党积极分子。",
                  today=cast.today)
    _step(case, cast, "activist_filing", activist_on + timedelta(days=5))
    mentors.assign(case, cast.mentor, "home", actor=cast.branch, on=activist_on + timedelta(days=7),
                   not_relative=True)
    db.session.commit()
    for number in range(assessments):
        _step(case, cast, "assessment", activist_on + timedelta(days=ASSESSMENT_EVERY * (number + 1)),
              "培养联系人谈话考察，表现积极，按时递交思想汇报。")
    return activist_on


def _to_candidate(case: DevCase, cast: Cast, training_class: TrainingClass) -> date:
    """An activist of at least a year, then a candidate with introducers, review and training; the candidate day."""
    activist_on = _to_activist(case, cast)
    candidate_on = tk.months_later(activist_on, 12) + timedelta(days=5)
    cases.advance(case, "candidate", candidate_on, actor=cast.branch, notes="支委会研究确定为发展对象。",
                  today=cast.today)
    _step(case, cast, "candidate_filing", candidate_on + timedelta(days=3))
    _step(case, cast, "introducers", candidate_on + timedelta(days=5), data={"introducers": cast.introducers})
    _step(case, cast, "political_review", candidate_on + timedelta(days=15),
          data={"conclusion": "政治历史清白，现实表现良好，政审合格。", "methods": ["函调", "谈话", "查阅档案"]})
    _step(case, cast, "training", candidate_on + timedelta(days=20), data={"class_id": training_class.id})
    return candidate_on


def _to_notice(case: DevCase, cast: Cast, training_class: TrainingClass) -> date:
    """A candidate through the branch review and the committee's pre-review; the pre-review day."""
    candidate_on = _to_candidate(case, cast, training_class)
    _step(case, cast, "branch_review", candidate_on + timedelta(days=25), "支委会审查，条件成熟。")
    prereview = candidate_on + timedelta(days=30)
    _step(case, cast, "committee_prereview", prereview, "党委预审合格，同意发放入党志愿书。")
    return prereview


def _admitted(case: DevCase, cast: Cast, training_class: TrainingClass) -> date:
    """Through the notice, the vote, the committee's talk and approval, filing, group and oath; the vote day."""
    prereview = _to_notice(case, cast, training_class)
    notices.open_notice(case, "home", prereview + timedelta(days=2), actor=cast.branch, posted_at="村务公开栏")
    db.session.commit()
    _step(case, cast, "application_form", prereview + timedelta(days=3))
    vote_on = prereview + timedelta(days=20)
    _step(case, cast, "admission_vote", vote_on, "支部党员大会讨论，表决通过。", data={"tally": TALLY})
    _step(case, cast, "committee_talk", vote_on + timedelta(days=10))
    cases.advance(case, "probationary", vote_on + timedelta(days=30), actor=cast.committee, today=cast.today)
    _step(case, cast, "admission_filing", vote_on + timedelta(days=35))
    _step(case, cast, "group_assignment", vote_on + timedelta(days=36), "编入第一党小组。")
    _step(case, cast, "oath", vote_on + timedelta(days=40), "在七一主题党日面向党旗宣誓。")
    _step(case, cast, "probation_education", vote_on + timedelta(days=120), "参加支部三会一课和志愿服务。")
    return vote_on


def _online_class(home: tk.OrgUnit, cast: Cast) -> None:
    """A class that is a course of the online school: the course most members completed in the courses demo
    (read from the activity stream; nothing when the courses plugin is off)."""
    course_id = db.session.scalar(
        select(tk.Activity.object_id).where(tk.Activity.verb == "course.completed", tk.Activity.object_type == "course")
        .group_by(tk.Activity.object_id).order_by(func.count().desc(), tk.Activity.object_id).limit(1))
    if course_id is not None and str(course_id).isdigit():
        training.create_class(home, "网上党校：发展对象培训课程", 8, actor=cast.branch, course_id=int(course_id))


def _full(case: DevCase, cast: Cast, training_class: TrainingClass) -> None:
    _admitted(case, cast, training_class)
    ends = case.probation_ends_on
    _step(case, cast, "conversion_application", ends - timedelta(days=20), "按期递交转正申请书。")
    _step(case, cast, "conversion_vote", ends + timedelta(days=5), data={"tally": TALLY})
    cases.advance(case, "full", ends + timedelta(days=30), actor=cast.committee, today=cast.today)
    _step(case, cast, "archive", ends + timedelta(days=40), "入党材料归档。")


def _in_notice(case: DevCase, cast: Cast, training_class: TrainingClass) -> None:
    """In public notice now (started three days ago), an objection received and resolved."""
    _to_notice(case, cast, training_class)
    notice = notices.open_notice(case, "home", cast.today - timedelta(days=3), actor=cast.branch,
                                 posted_at="村务公开栏、村党员微信群")
    objection = notices.add_objection(notice, cast.today - timedelta(days=2), "反映其曾拖欠村集体承包费。",
                                      actor=cast.branch)
    notices.resolve(objection, "经支部核实，承包费已于去年结清，反映情况不影响发展。", actor=cast.branch,
                    on=cast.today - timedelta(days=1))
    db.session.commit()


def _away(case: DevCase, cast: Cast) -> None:
    """A worker in Shenzhen: a candidate with a mentor at work; the host side's vetting asked, not yet answered."""
    activist_on = _to_activist(case, cast)
    if cast.work_mentor is not None:
        mentors.assign(case, cast.work_mentor, "work", actor=cast.host, on=activist_on + timedelta(days=30),
                       not_relative=True)
        db.session.commit()
    candidate_on = tk.months_later(activist_on, 12) + timedelta(days=5)
    cases.advance(case, "candidate", candidate_on, actor=cast.branch, today=cast.today)
    asked = cast.today - timedelta(days=12)
    for row in vetting.request(case, "home", ("home_village", "relatives"), actor=cast.branch, on=asked):
        vetting.record(row, "经走访村委会和邻里，本人及家庭成员遵纪守法，无不良记录。", actor=cast.branch,
                       on=asked + timedelta(days=4))
    vetting.request(case, "host", ("workplace", "community", "person"), actor=cast.branch, on=asked)
    db.session.commit()


def _cast(context: tk.DemoContext, home: tk.OrgUnit, host: tk.OrgUnit | None) -> Cast | None:
    full = [m for m in context.members if m.stage == "full" and not m.lost_contact]
    # The home branch's own members first; a small demo lends mentors and introducers from other villages.
    at_home = sorted((m for m in full if not m.is_away), key=lambda m: m.home_unit_id != home.id)
    at_work = next((m for m in full if host is not None and m.is_away and m.host_unit_id == host.id), None)
    if len(at_home) < 3 or "home-secretary" not in context.accounts:
        return None
    return Cast(branch=context.accounts["home-secretary"], host=context.accounts.get("host-secretary"),
                committee=context.accounts["organizer"], mentor=at_home[0], work_mentor=at_work,
                introducers=[at_home[1].id, at_home[2].id], today=tk.local_today(context.now))


def build(context: tk.DemoContext) -> None:
    """The cases of every stage, the worker away, a training class and the plan, once."""
    home, host = context.units.get("home"), context.units.get("host")
    if home is None or "organizer" not in context.accounts:
        return
    if db.session.scalar(select(DevCase.id).where(DevCase.unit_id == home.id).limit(1)) is not None:
        return
    cast = _cast(context, home, host)
    if cast is None:
        return
    training_class = training.create_class(home, "2025年度发展对象集中培训班", 24, actor=cast.branch)
    _online_class(home, cast)
    db.session.commit()
    _open(home, cast, "applicant", 1)
    _to_activist(_open(home, cast, "activist", 2), cast)
    _to_candidate(_open(home, cast, "candidate", 3), cast, training_class)
    _in_notice(_open(home, cast, "notice", 4), cast, training_class)
    _admitted(_open(home, cast, "probationary", 5), cast, training_class)
    _full(_open(home, cast, "full", 6), cast, training_class)
    withdrawn = _open(home, cast, "withdrawn", 7)
    cases.close(withdrawn, "withdrawn", actor=cast.branch, on=cast.today - timedelta(days=40),
                reason="本人外出求学，主动撤回入党申请。", today=cast.today)
    if host is not None and cast.host is not None:
        # The case names the host branch; the member record is no mobile party member's (not hosted anywhere).
        _away(_open(home, cast, "away", 8, host_unit=host, workplace="深圳市华达电子有限公司"), cast)
    board.save_plan(home, cast.today.year, 3, "重点从青年农民和外出务工人员中发展党员。", actor=cast.branch)
    db.session.commit()
