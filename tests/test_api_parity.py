"""Web and API parity: everything a member does on the web can be done through ``/api/v1``.

Every web endpoint of the app (every rule outside ``/api/``) is in exactly one of three maps:
``MEMBER_WEB_TO_API`` (endpoint → the "METHOD /api/v1/path" operations a phone app uses instead; each must be in
the OpenAPI document), ``STAFF_ONLY`` (endpoint → who uses it: secretaries, organizers, authors or admins; a member
without a role is refused) or ``DELIBERATE_GAPS`` (endpoint → why the API has no counterpart). The branch-life part
(meetings, dues, reports, review, notices, standing, development, suggestions) is kept in
``tests/helpers/api_parity_branch_life.py`` and merged here. A new web page fails this test until it is placed.
"""
from __future__ import annotations

from collections import Counter

from tests.conftest import login
from tests.helpers import api_parity_branch_life as branch_life

API_PREFIX = "/api/"

MEMBER_WEB_TO_API: dict[str, list[str]] = {
    # core
    "auth.login": ["POST /api/v1/auth/token"],
    "auth.account": ["GET /api/v1/me"],
    "auth.change_password": ["POST /api/v1/me/password"],
    "auth.change_email": ["PUT /api/v1/me/email"],
    "web.me": ["GET /api/v1/me"],
    "web.me_export": ["GET /api/v1/me/export"],
    "web.dashboard": ["GET /api/v1/me", "GET /api/v1/inbox", "GET /api/v1/points/me", "GET /api/v1/courses",
                      "GET /api/v1/mobility/me", "GET /api/v1/daily-quiz"],
    "web.search": ["GET /api/v1/search"],
    "inbox.index": ["GET /api/v1/inbox"],
    "inbox.open_message": ["POST /api/v1/inbox/{id}/read"],
    "inbox.read_all": ["POST /api/v1/inbox/read-all"],
    "badges.mine": ["GET /api/v1/me/badges"],
    # care
    "care.index": ["GET /api/v1/care/requests"],
    "care.new": ["POST /api/v1/care/requests", "POST /api/v1/care/requests/{id}/attachments"],
    "care.detail": ["GET /api/v1/care/requests/{id}"],
    "care.transition": ["POST /api/v1/care/requests/{id}/transitions"],
    "care.comment": ["POST /api/v1/care/requests/{id}/comments", "POST /api/v1/care/requests/{id}/attachments"],
    "care.attachment": ["GET /api/v1/care/requests/{id}/attachments/{attachment_id}"],
    "care.wishes": ["GET /api/v1/care/wishes"],
    "care.wish_new": ["POST /api/v1/care/wishes"],
    "care.wish_detail": ["GET /api/v1/care/wishes/{id}"],
    # approve/reject are the secretary's; a member's own steps:
    "care.wish_action": ["POST /api/v1/care/wishes/{id}/claim", "POST /api/v1/care/wishes/{id}/unclaim",
                         "POST /api/v1/care/wishes/{id}/fulfil", "POST /api/v1/care/wishes/{id}/confirm"],
    # courses
    "courses.catalogue": ["GET /api/v1/courses"],
    "courses.course": ["GET /api/v1/courses/{slug}"],
    "courses.lesson": ["GET /api/v1/lessons/{id}", "GET /api/v1/lessons/{id}/comments"],
    "courses.reading": ["POST /api/v1/lessons/{id}/reading"],
    "courses.complete": ["POST /api/v1/lessons/{id}/complete"],
    "courses.post_comment": ["POST /api/v1/lessons/{id}/comments"],
    "courses.report_comment": ["POST /api/v1/comments/{id}/report"],
    "courses.certificates": ["GET /api/v1/certificates"],
    "courses.certificate_pdf": ["GET /api/v1/certificates/{code}/certificate.pdf"],
    # quizzes
    "quizzes.index": ["GET /api/v1/quizzes", "GET /api/v1/daily-quiz"],
    "quizzes.quiz": ["GET /api/v1/quizzes/{quiz_id}"],
    "quizzes.start": ["POST /api/v1/quizzes/{quiz_id}/attempts"],
    "quizzes.attempt": ["GET /api/v1/attempts/{attempt_id}"],
    "quizzes.save": ["PUT /api/v1/attempts/{attempt_id}/answers/{question_id}"],
    "quizzes.submit": ["POST /api/v1/attempts/{attempt_id}/submit"],
    "quizzes.summary": ["GET /api/v1/attempts/{attempt_id}"],
    "quizzes.review": ["GET /api/v1/attempts/{attempt_id}"],
    "quizzes.daily": ["GET /api/v1/daily-quiz", "POST /api/v1/daily-quiz"],
    # points
    "points.me": ["GET /api/v1/points/me"],
    "points.leaderboard": ["GET /api/v1/points/leaderboard"],
    "points.privacy": ["POST /api/v1/points/privacy"],
    "points.rules": ["GET /api/v1/points/rules"],
    "points.campaigns": ["GET /api/v1/points/campaigns"],
    "points.campaign": ["GET /api/v1/points/campaigns/{id}"],
    # mobility (the member's side)
    "mobility.index": ["GET /api/v1/mobility/me"],
    "mobility.register": ["POST /api/v1/mobility/outflows"],
    "mobility.outflow": ["GET /api/v1/mobility/outflows/{id}"],
    "mobility.edit": ["PUT /api/v1/mobility/outflows/{id}"],
    "mobility.withdraw": ["POST /api/v1/mobility/outflows/{id}/withdraw"],
    "mobility.upload_photo": ["POST /api/v1/mobility/outflows/{id}/photo"],
    "mobility.photo": ["GET /api/v1/mobility/outflows/{id}/photo"],
    "mobility.record_return": ["POST /api/v1/mobility/outflows/{id}/return"],
    "mobility.certificate": ["GET /api/v1/mobility/certificates/{id}"],
    "mobility.certificate_pdf": ["GET /api/v1/mobility/certificates/{id}/certificate.pdf"],
    "mobility.checkin": ["GET /api/v1/mobility/branches", "POST /api/v1/mobility/checkins"],
    "mobility.report_move": ["POST /api/v1/mobility/report"],
    "mobility.confirm_details": ["POST /api/v1/mobility/confirm"],
    "mobility.new_transfer": ["POST /api/v1/mobility/transfers"],
    "mobility.transfer": ["GET /api/v1/mobility/transfers/{id}"],
    "mobility.letter": ["GET /api/v1/mobility/transfers/{id}/letter.pdf"],
}

_SECRETARIES = "secretaries (and organizers above them, admins)"
_ADMINS = "admins"
STAFF_ONLY: dict[str, str] = {
    **{endpoint: _ADMINS for endpoint in (
        "admin.accounts", "admin.create_account", "admin.index", "admin.install_plugin", "admin.permissions",
        "admin.plugins", "admin.remove_plugin", "admin.reset_account_password", "admin.set_account_active",
        "admin.settings", "admin.toggle_plugin", "audit.index", "email.admin", "email.send_test", "sms_example.log",
        "care.admin_categories", "care.admin_rules", "care.admin_rule_delete", "points.admin_rules",
        "courses.manage_certificates", "courses.revoke_certificate")},
    **{endpoint: _SECRETARIES for endpoint in (
        "auth.unlock", "web.unit_dashboard",
        "org.close_unit", "org.edit_member", "org.edit_unit", "org.export_members", "org.import_cancel",
        "org.import_confirm", "org.import_map", "org.import_members", "org.import_rejected", "org.member",
        "org.member_account", "org.member_contact", "org.move_unit", "org.new_member", "org.new_unit",
        "org.remove_role", "org.reset_password", "org.roles", "org.unit", "org.units",
        "care.assign", "care.dashboard", "care.dashboard_xlsx", "care.file_for", "care.overdue", "care.queue",
        "courses.assignment", "courses.assignment_export", "courses.assignments", "courses.cancel_assignment",
        "courses.new_assignment", "courses.moderation", "courses.hide_comment", "courses.show_comment",
        "courses.dismiss_reports",
        "mobility.arrival", "mobility.checkin_code", "mobility.contact_person", "mobility.decide",
        "mobility.decide_checkin", "mobility.decide_identity", "mobility.decide_transfer", "mobility.log_contact",
        "mobility.member", "mobility.outgoing_export", "mobility.review", "mobility.stats", "mobility.stats_export",
        "mobility.unit", "mobility.units",
        "points.award", "points.campaign_edit", "points.campaign_new", "points.member", "points.report",
        "points.report_xlsx", "points.reverse", "points.rule_edit", "points.rule_new", "points.standings",
        "quizzes.analysis", "quizzes.bank", "quizzes.edit_question", "quizzes.edit_quiz", "quizzes.export_bank",
        "quizzes.grade_response", "quizzes.grading_queue", "quizzes.import_questions", "quizzes.manage_index",
        "quizzes.new_category", "quizzes.new_question", "quizzes.new_quiz", "quizzes.question",
        "quizzes.quiz_questions", "quizzes.regrade", "quizzes.results", "quizzes.results_xlsx")},
    **{endpoint: "course authors (secretaries and admins)" for endpoint in (
        "courses.manage", "courses.new_course", "courses.edit_course", "courses.new_lesson", "courses.edit_lesson")},
}

_STATIC = "a static file of the web pages"
_PUBLIC_DOCUMENT = "a public page anyone may open without logging in (the API gives its URL)"
_OPEN_BADGES = "an Open Badges 2.0 document served without login to backpacks and verifiers: it is an API already"
_UNSUBSCRIBE = "the signed unsubscribe link of an e-mail: opened from the mail without logging in"
DELIBERATE_GAPS: dict[str, str] = {
    "static": _STATIC, "care.static": _STATIC, "courses.static": _STATIC, "mobility.static": _STATIC,
    "points.static": _STATIC, "quizzes.static": _STATIC,
    "web.home": "redirects to the dashboard or the login page",
    "web.set_locale": "the app sets its own language (Accept-Language on every request)",
    "auth.logout": "a token is dropped by the app; it ends on the account page or with a password change",
    "auth.revoke_token": "tokens of other devices are managed on the web account page",
    "care.discard_draft": "server-side drafts serve the web form without JavaScript; the app keeps drafts on the phone",
    "places.search_places": "suggestions of the web place picker; API bodies take a place as text the server resolves",
    "courses.course_file": "an image of a course folder, linked from the lesson HTML the API returns",
    "courses.verify_certificate": _PUBLIC_DOCUMENT,
    "mobility.verify": _PUBLIC_DOCUMENT,
    "mobility.verify_photo": _PUBLIC_DOCUMENT,
    "badges.issuer": _OPEN_BADGES, "badges.badge_class": _OPEN_BADGES, "badges.badge_class_image": _OPEN_BADGES,
    "badges.assertion": _OPEN_BADGES, "badges.baked": _OPEN_BADGES, "badges.revocations": _OPEN_BADGES,
    "email.unsubscribe": _UNSUBSCRIBE, "email.unsubscribe_confirm": _UNSUBSCRIBE, "email.one_click": _UNSUBSCRIBE,
    "email.one_click_page": _UNSUBSCRIBE,
    "email.preferences": "e-mail delivery preferences: e-mail is the web's channel beside the inbox (issue 21 lists "
                         "no API for it)",
    "email.save_preferences": "e-mail delivery preferences: e-mail is the web's channel beside the inbox (issue 21 "
                              "lists no API for it)",
    "pwa.manifest": "the installable web app's manifest (the web app itself)",
    "pwa.service_worker": "the web app's service worker (the web app itself)",
    "pwa.offline": "the web app's offline fallback page (the web app itself)",
}

MAPS = {"MEMBER_WEB_TO_API": [MEMBER_WEB_TO_API, branch_life.MEMBER_WEB_TO_API],
        "STAFF_ONLY": [STAFF_ONLY, branch_life.STAFF_ONLY],
        "DELIBERATE_GAPS": [DELIBERATE_GAPS, branch_life.DELIBERATE_GAPS]}


def web_endpoints(app) -> dict[str, list]:
    """``{endpoint: [rules]}`` of every endpoint with a rule outside ``/api/``."""
    endpoints: dict[str, list] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX):
            endpoints.setdefault(rule.endpoint, []).append(rule)
    return endpoints


def _placed() -> Counter:
    """How many times each endpoint is placed over every map (ours and the branch-life one)."""
    return Counter(endpoint for maps in MAPS.values() for mapping in maps for endpoint in mapping)


def test_every_web_endpoint_is_placed_exactly_once(app):
    placed = _placed()
    endpoints = web_endpoints(app)
    unplaced = sorted(set(endpoints) - set(placed))
    twice = sorted(endpoint for endpoint, count in placed.items() if count > 1)
    gone = sorted(set(placed) - set(endpoints))
    assert not unplaced, ("web endpoints in none of MEMBER_WEB_TO_API, STAFF_ONLY, DELIBERATE_GAPS (add an API "
                          f"operation, or say why not): {unplaced}")
    assert not twice, f"endpoints placed more than once: {twice}"
    assert not gone, f"placed endpoints the app does not have: {gone}"


def test_every_deliberate_gap_and_staff_page_says_why(app):
    for name in ("STAFF_ONLY", "DELIBERATE_GAPS"):
        for mapping in MAPS[name]:
            blank = sorted(endpoint for endpoint, reason in mapping.items() if not str(reason).strip())
            assert not blank, f"{name} entries without a reason: {blank}"


def test_every_mapped_operation_is_in_the_openapi_document(client, db):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    missing = []
    for mapping in MAPS["MEMBER_WEB_TO_API"]:
        for endpoint, operations in mapping.items():
            assert operations, f"{endpoint} maps to no API operation"
            for operation in operations:
                method, _, path = operation.partition(" ")
                if method.lower() not in paths.get(path, {}):
                    missing.append(f"{endpoint} → {operation}")
    assert not missing, f"mapped API operations missing from the OpenAPI document: {missing}"


def test_staff_pages_refuse_a_member_without_a_role(app, client, org):
    """member2 (home branch, no role) opening each staff page without URL arguments: refused or sent to log in."""
    login(client, "member2")
    endpoints = web_endpoints(app)
    opened, wrong = 0, []
    for endpoint in sorted(endpoint for mapping in MAPS["STAFF_ONLY"] for endpoint in mapping):
        for rule in endpoints.get(endpoint, []):
            if rule.arguments or "GET" not in rule.methods:
                continue
            response = client.get(rule.rule)
            opened += 1
            refused = response.status_code in (403, 404) or (
                response.status_code == 302 and "/login" in response.headers.get("Location", ""))
            if not refused:
                wrong.append(f"{endpoint} {rule.rule}: {response.status_code}")
    assert opened > 20
    assert not wrong, f"staff pages a member without a role may open: {wrong}"
