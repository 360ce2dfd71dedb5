"""Search answers questions as members type them: each must find its lesson in the top 3 (issue 13)."""
from __future__ import annotations

import pytest

from portal import toolkit as tk
from portal.plugins.manager import get_manager
from portal.search import service
from portal_courses.models import Course, Lesson
from portal_courses.sync import sync_directory
from tests.conftest import login
from tests.test_search_service import search_backend  # noqa: F401  (each test on every backend)

DUES = "staying-connected/05-dues-and-reports"
LEAVE = "staying-connected/01-before-you-leave"
CERT = "staying-connected/02-activity-certificate"
CHECK_IN = "staying-connected/03-checking-in"
MOVING = "staying-connected/04-moving-on"
WELCOME = "getting-started/01-welcome"
DASHBOARD = "getting-started/02-dashboard"
SCHOOL = "getting-started/03-online-school"
SAFE = "getting-started/04-staying-safe"
CONTRACTS = "workers-rights/01-contracts"
WAGES = "workers-rights/02-wages"
INJURY = "workers-rights/03-work-injury"
LEGAL_AID = "workers-rights/04-legal-aid"

#: (what a member typed, the lesson that must be among the first 3 lessons found). Colloquial, with particles,
#: the other way to write a word (缴/交, 报道/报到, 登陆/登录) and words the lessons do not use (打工, 工钱, 律师).
QUESTIONS = [
    ("怎么交党费", DUES),
    ("党费怎么交", DUES),
    ("在外地怎么缴党费啊", DUES),
    ("党费交多少", DUES),
    ("思想汇报多久写一次", DUES),
    ("半年没交党费会怎么样", DUES),
    ("如何转接组织关系", LEAVE),
    ("出去打工要先跟支部说吗", LEAVE),
    ("外出登记怎么办理", LEAVE),
    ("外出前要带什么证件", LEAVE),
    ("流动党员活动证有什么用", CERT),
    ("活动证丢了怎么办", CERT),
    ("到了新地方怎么报到", CHECK_IN),
    ("到流入地要报道吗", CHECK_IN),
    ("在当地怎么参加组织生活", CHECK_IN),
    ("换工作地点要报告吗", MOVING),
    ("回老家了要做什么", MOVING),
    ("和支部失联了怎么办", MOVING),
    ("网站怎么登陆", WELCOME),
    ("怎么切换语言", WELCOME),
    ("怎么修改个人信息", DASHBOARD),
    ("站内信在哪里看", DASHBOARD),
    ("怎么拿到结业证书", SCHOOL),
    ("一节课怎样才算学完", SCHOOL),
    ("密码要怎么设置才安全", SAFE),
    ("有人打电话冒充支部要钱是骗子吗", SAFE),
    ("老板不跟我签合同怎么办", CONTRACTS),
    ("试用期最长多久", CONTRACTS),
    ("老板拖欠工钱怎么讨", WAGES),
    ("加班费怎么算的", WAGES),
    ("工地上干活受伤了算工伤吗", INJURY),
    ("单位没给我买工伤保险怎么办", INJURY),
    ("去哪里找免费的律师", LEGAL_AID),
    ("法律援助怎么申请呢", LEGAL_AID),
    ("how do I pay my dues", DUES),
    ("what if my boss does not pay my wages", WAGES),
    ("I got hurt at work, what should I do", INJURY),
    ("where can I get free legal aid", LEGAL_AID),
    ("how do I check in at the new branch", CHECK_IN),
]


@pytest.fixture
def shipped(app, db):
    """The shipped courses, synced and indexed from scratch."""
    sync_directory()
    assert service.reindex() >= 24


def lesson_of(key: str) -> str:
    _, kind, lesson_id, _locale = key.split(":")
    assert kind == "lesson"
    lesson = tk.db.session.get(Lesson, int(lesson_id))
    return f"{lesson.course.slug}/{lesson.slug}"


def top3(question: str, account) -> list[str]:
    locale = "zh_CN" if service._HAN.search(question) else "en"
    return [lesson_of(r.key) for r in service.search(question, account, locale=locale, types=("lesson",), limit=3)]


def test_member_questions_find_their_lesson(shipped, org):
    assert len(QUESTIONS) >= 30
    misses = [(q, want, found) for q, want in QUESTIONS if want not in (found := top3(q, org.member1.account))]
    assert not misses, f"{len(QUESTIONS) - len(misses)}/{len(QUESTIONS)} found; misses: {misses}"


@pytest.mark.parametrize("question", ["怎么交党费", "党费怎么交", "如何转接组织关系"])
def test_questions_match_fewer_than_all_words(shipped, org, question):
    assert service.search(question, org.member1.account, locale="zh_CN")


def test_question_words_are_dropped():
    assert service.query_words("怎么交党费呢？") == ["交", "党费"]
    assert service.query_words("How do I pay my dues?") == ["pay", "dues"]


def test_disabled_plugin_documents_vanish_without_reindex(shipped, org):
    viewer = org.member1.account
    assert service.search("党费", viewer)
    manager = get_manager()
    manager.set_enabled("courses", False)
    tk.db.session.commit()
    manager.forget_states()
    assert service.search("党费", viewer) == []
    manager.set_enabled("courses", True)
    tk.db.session.commit()
    manager.forget_states()
    assert service.search("党费", viewer)


def test_queued_documents_carry_their_plugin(shipped, org):
    course = tk.db.session.query(Course).filter_by(slug="staying-connected").one()
    lesson = course.lessons[0]
    assert service.document_plugin(tk.SearchDocument(key=f"courses:lesson:{lesson.id}:en", type="lesson", title="t",
                                                     body="b", url=f"/courses/{course.slug}/lessons/{lesson.id}")) \
        == "courses"
    assert service.document_plugin(tk.SearchDocument(key="other:1", type="page", title="t", body="b",
                                                     url="/nowhere")) == "core"


def test_suggests_a_correction_when_nothing_matches(shipped, org):
    viewer = org.member1.account
    assert service.search("wagse", viewer, locale="en") == []
    suggestion = service.suggest("wagse", viewer)
    assert suggestion and service.search(suggestion, viewer, locale="en")
    assert service.suggest("wages", viewer) is None
    assert service.suggest("injurry", viewer) == "injury"  # a word, not the index's stem "injuri"
    assert service.search("活冻证", viewer) == [] and service.suggest("活冻证", viewer) == "活动证"
    assert service.suggest("xyzzy", viewer) is None


@pytest.mark.parametrize("search_backend", ["whoosh"], indirect=True)
def test_an_index_built_before_the_plugin_field_filters_by_key_prefix(app, db, org, tmp_path, monkeypatch):
    from whoosh import index as windex

    from portal.plugins.manager import call_each

    sync_directory()
    old_schema = service.schema()
    old_schema.remove("plugin")
    directory = tmp_path / "old-index"
    directory.mkdir()
    monkeypatch.setitem(app.config, "SEARCH_INDEX_DIR", str(directory))
    with windex.create_in(str(directory), old_schema, indexname=service.INDEX_NAME).writer() as writer:
        for _name, docs in call_each("portal_search_documents"):
            for doc in docs:
                fields = service._doc_fields(doc, {}, "")
                del fields["plugin"]
                writer.add_document(**fields)
    viewer = org.member1.account
    assert service.search("党费", viewer)  # opening adds the field in place
    assert "plugin" in service.open_index().schema
    get_manager().set_enabled("courses", False)
    tk.db.session.commit()
    get_manager().forget_states()
    assert service.search("党费", viewer) == []


def test_search_page_links_the_suggestion(shipped, org, client):
    login(client, "member1")
    page = client.get("/search?q=wagse").get_data(as_text=True)
    assert "Did you mean" in page and "/search?q=wages" in page
    assert "Did you mean" not in client.get("/search?q=wages").get_data(as_text=True)
