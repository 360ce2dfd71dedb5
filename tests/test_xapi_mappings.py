"""Every verb of the activity stream has an xAPI mapping, and the demo's statements say what they are about
in both languages without saying anything personal (issue 21)."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest
from sqlalchemy import select

from portal import toolkit as tk
from portal.xapi.statements import statements_for
from tests.helpers.demo import demo_built_once

PUBLIC_URL = "http://portal.test"
#: Verbs that deliberately stay on the portal's fallback mapping, with the reason (none today).
UNMAPPED_ON_PURPOSE: dict[str, str] = {}
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"


@pytest.fixture(scope="module")
def demo(app):
    yield from demo_built_once(app, {"PUBLIC_URL": PUBLIC_URL})


@pytest.fixture(scope="module")
def statements(demo):
    """``[(activity, statement)]`` of every activity of the demo."""
    activities = list(tk.db.session.scalars(select(tk.Activity).order_by(tk.Activity.id)))
    return list(zip(activities, statements_for(activities), strict=True))


def test_every_verb_declared_or_recorded_is_mapped(statements):
    declared = {verb.verb for verb in tk.call_list("portal_activity_verbs")}
    recorded = {activity.verb for activity, _statement in statements}
    mapped = {verb.verb for verb in tk.call_list("portal_xapi_verbs")}
    unmapped = sorted((declared | recorded) - mapped - set(UNMAPPED_ON_PURPOSE))
    assert not unmapped, f"verbs without an xAPI mapping (portal_xapi_verbs): {unmapped}"
    assert recorded - declared == set(), "the demo records verbs nobody declares"


def test_mappings_use_adl_verbs_where_one_fits(demo):
    iris = {verb.verb: verb.iri for verb in tk.call_list("portal_xapi_verbs")}
    for verb, adl in {"lesson.completed": "completed", "course.completed": "completed", "quiz.passed": "passed",
                      "quiz.failed": "failed", "quiz.started": "attempted", "meeting.attended": "attended",
                      "meeting.attended_online": "attended", "lesson.commented": "commented",
                      "mobility.registered": "registered"}.items():
        assert iris[verb] == ADL_VERBS + adl, verb


def test_every_demo_statement_names_verb_and_object_in_both_languages(statements):
    by_verb = defaultdict(int)
    for activity, statement in statements:
        definition, verb = statement["object"]["definition"], statement["verb"]
        for language_map in (definition["name"], verb["display"]):
            assert language_map.get("zh-CN", "").strip() and language_map.get("en-US", "").strip(), (activity.verb, language_map)
        # described by its plugin (a page of the portal), not the stream's fallback
        assert "/xapi/objects/" not in statement["object"]["id"], activity.verb
        assert statement["object"]["id"].startswith(PUBLIC_URL + "/")
        assert definition["type"].startswith(("http://", "https://")), activity.verb
        by_verb[activity.verb] += 1
    assert len(by_verb) >= 20, f"the demo records too few kinds of acts to check: {sorted(by_verb)}"


def test_quiz_statements_carry_score_success_duration_and_one_registration_per_attempt(statements):
    from portal_quizzes.models import Quiz

    pass_marks = dict(tk.db.session.execute(select(Quiz.id, Quiz.pass_percent)).all())
    registrations = defaultdict(set)
    finished = [(a, s) for a, s in statements if a.verb in ("quiz.attempted", "quiz.passed", "quiz.failed")]
    assert finished and any(a.verb == "quiz.started" for a, _s in statements)
    for activity, statement in finished:
        result, extras = statement["result"], activity.extras
        if activity.verb == "quiz.attempted":  # this attempt's own percentage against the pass mark
            assert result["success"] is (extras["percent"] >= pass_marks[int(activity.object_id)])
        assert result["completion"] is True and result["duration"].startswith("PT")
        score = result["score"]
        assert score["raw"] == extras["score"] and score["max"] == extras["max_score"] and score["min"] == 0
        assert score["scaled"] == pytest.approx(extras["score"] / extras["max_score"], abs=1e-4)
        registrations[extras["attempt"]].add(statement["context"]["registration"])
    for activity, statement in statements:
        if activity.verb == "quiz.started":
            registrations[int(activity.object_id)].add(statement["context"]["registration"])
    assert all(len(found) == 1 for found in registrations.values()), registrations
    assert len({next(iter(found)) for found in registrations.values()}) == len(registrations)  # one per attempt
    passed = [s for a, s in statements if a.verb == "quiz.passed"]
    failed = [s for a, s in statements if a.verb == "quiz.failed"]
    assert passed and failed
    assert all(s["result"]["success"] is True for s in passed) and all(s["result"]["success"] is False for s in failed)
    daily = [s for a, s in statements if a.verb == "daily_quiz.completed"]
    assert daily and all(s["result"]["score"]["max"] > 0 and s["result"]["completion"] for s in daily)


def test_completions_say_so(statements):
    for activity, statement in statements:
        if activity.verb in ("lesson.completed", "course.completed"):
            assert statement["result"]["completion"] is True
    lessons = [(a, s) for a, s in statements if a.verb == "lesson.completed" and "seconds" in a.extras]
    assert lessons, "no demo lesson was completed through the reading clock"
    for activity, statement in lessons:
        assert statement["result"]["duration"] == tk.iso_duration(activity.extras["seconds"])


def test_statements_say_nothing_personal(statements):
    from portal_care.models import CareRequest, CareWish
    from portal_reports.models import Report
    from portal_standing.models import WorkDone

    session = tk.db.session
    members = list(session.scalars(select(tk.Member)))
    private = {text for member in members for text in (member.name, member.phone, member.id_number) if text}
    private |= {text for text in session.scalars(select(tk.Account.username)) if text}
    for model, *columns in ((CareRequest, "title", "description", "contact_detail"), (CareWish, "title", "description"),
                            (Report, "body"), (WorkDone, "description")):
        private |= {getattr(row, column) for row in session.scalars(select(model)) for column in columns
                    if getattr(row, column)}
    assert len(private) > 30
    text = json.dumps([statement for _activity, statement in statements], ensure_ascii=False)
    leaked = sorted(value for value in private if len(value) >= 2 and value in text)
    assert not leaked, leaked


def test_describing_the_whole_demo_takes_a_few_queries_not_one_per_activity(statements):
    from tests.helpers.query_counter import count_queries

    activities = [activity for activity, _statement in statements]
    with count_queries() as queries:
        statements_for(activities)
    # a few per verb at most (23 verbs here), whatever the number of activities (over 700)
    assert len(activities) > 500 and len(queries) <= 2 * len({a.verb for a in activities}), queries.report()


def test_durations_are_iso_8601():
    assert [tk.iso_duration(s) for s in (0, 59.9, 60, 3723, -5)] == ["PT0S", "PT59S", "PT1M0S", "PT1H2M3S", "PT0S"]


def test_a_language_map_renders_a_plugin_word_in_each_language_and_leaves_the_locale_alone(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        label = {verb.verb: verb.label for verb in tk.call_list("portal_activity_verbs")}["quiz.passed"]
        assert tk.language_map(label) == {"zh-CN": "通过测试", "en-US": "Passed a quiz"}
        assert str(label) == "Passed a quiz"  # the request's own language afterwards
        assert tk.language_map("党课") == {"zh-CN": "党课", "en-US": "党课"}
