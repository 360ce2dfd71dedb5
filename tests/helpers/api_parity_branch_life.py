"""The branch-life part of the web ↔ API parity map (meetings, notices, dues, reports, suggestions,
review, standing, development), merged into ``tests/test_api_parity.py``'s map.

- ``MEMBER_WEB_TO_API``: a web endpoint a member reaches → the API operations ("METHOD /api/v1/path",
  as in the OpenAPI document) that do the same.
- ``STAFF_ONLY``: pages of secretaries, organizers and admins → who they are for.
- ``DELIBERATE_GAPS``: web endpoints with no API on purpose → why.
"""
from __future__ import annotations

MEMBER_WEB_TO_API: dict[str, list[str]] = {
    # meetings (/meetings)
    "meetings.mine": ["GET /api/v1/meetings"],
    "meetings.show": ["GET /api/v1/meetings/{id}"],
    "meetings.checkin": ["POST /api/v1/meetings/{id}/checkin"],
    # joining online is the check-in without a code; the app then opens the meeting's online_url
    "meetings.join": ["POST /api/v1/meetings/{id}/checkin", "GET /api/v1/meetings/{id}"],
    "meetings.leave": ["POST /api/v1/meetings/{id}/leave"],
    "meetings.ics": ["GET /api/v1/meetings/{id}.ics"],
    "meetings.calendar": ["GET /api/v1/meetings/calendar.ics"],
    # notices (/notices)
    "meetings_notices.mine": ["GET /api/v1/notices"],
    "meetings_notices.show": ["GET /api/v1/notices/{notice_id}"],
    "meetings_notices.ack": ["POST /api/v1/notices/{notice_id}/ack"],
    "meetings_notices.reply": ["POST /api/v1/notices/{notice_id}/reply"],
    # dues (/dues)
    "dues.mine": ["GET /api/v1/dues/me", "GET /api/v1/dues/me/payments"],
    "dues.report": ["POST /api/v1/dues/reports"],
    "dues.reduction": ["GET /api/v1/dues/me/reductions", "POST /api/v1/dues/reductions"],
    "dues.pay": ["POST /api/v1/dues/pay/{provider}"],
    "dues.receipt": ["GET /api/v1/dues/payments/{id}/receipt.pdf"],
    # personal reports (/reports); comments are the readers' (secretaries, mentors)
    "reports.mine": ["GET /api/v1/reports/mine"],
    "reports.write": ["GET /api/v1/reports/drafts/{period}", "POST /api/v1/reports"],
    "reports.draft": ["PUT /api/v1/reports/drafts/{period}"],
    "reports.show": ["GET /api/v1/reports/{report_id}"],
    "reports.comment": ["POST /api/v1/reports/{report_id}/comments"],
    # suggestions (/suggestions)
    "reports_suggestions.new": ["GET /api/v1/suggestions/mine"],
    "reports_suggestions.send": ["POST /api/v1/suggestions"],
    "reports_suggestions.reply_page": ["GET /api/v1/suggestions/token/{token}"],
    "reports_suggestions.digest": ["GET /api/v1/suggestions/digest"],
    "reports_suggestions.show": ["GET /api/v1/suggestions/{suggestion_id}"],
    # the annual review (/review)
    "review.mine": ["GET /api/v1/reviews/me"],
    "review.year_pdf": ["GET /api/v1/reviews/year/{year}.pdf"],
    "review.self_assessment": ["GET /api/v1/reviews/rounds/{round_id}", "PUT /api/v1/reviews/rounds/{round_id}/self"],
    "review.self_draft": ["PUT /api/v1/reviews/rounds/{round_id}/self"],
    "review.rate_page": ["GET /api/v1/reviews/rounds/{round_id}/ratees"],
    "review.rate": ["POST /api/v1/reviews/rounds/{round_id}/ratings"],
    # standing (/standing/me)
    "standing.me": ["GET /api/v1/standing/me"],
    # development: the person's own page, their case and its documents; a mentor records their steps
    "development.mine": ["GET /api/v1/development/mine"],
    "development.case": ["GET /api/v1/development/cases/{case_id}"],
    "development.file": ["GET /api/v1/development/files/{file_id}"],
    "development.record_step": ["POST /api/v1/development/cases/{case_id}/steps"],
}

_MEETINGS = "secretaries of the unit holding the meeting (meetings.manage)"
_NOTICES = "senders of notices and secretaries following them (meetings.notices)"
_DUES = "the branch's treasurer and secretaries, and the committees above (dues.manage and its kin)"
_REPORTS = "readers of the unit's reports (reports.read)"
_SUGGESTIONS = "answerers of the unit's suggestions (reports.suggestions)"
_REVIEW = "secretaries running the unit's review round and the committee approving it (review.manage/approve)"
_STANDING = "secretaries keeping the unit's standing records (standing.manage)"
_DEVELOPMENT = "the branch and the committees keeping development cases (development.manage/approve)"

STAFF_ONLY: dict[str, str] = {
    **{f"meetings_manage.{name}": _MEETINGS for name in (
        "index", "new", "meeting", "edit", "state", "minutes", "upload", "attachment", "register", "add_attendee",
        "remove_attendee", "leave", "qr", "compliance", "minutes_pdf", "register_xlsx")},
    **{f"meetings_notices.{name}": _NOTICES for name in ("new", "sent", "receipts", "receipts_xlsx", "called")},
    **{f"dues_manage.{name}": _DUES for name in (
        "index", "member", "set_profile", "record_payment", "confirm", "reject", "proof", "receipt", "hosted",
        "record_hosted", "reductions", "decide_branch", "decide_upper", "arrears_page", "reported", "quarter",
        "remit", "year", "publish", "monthly_xlsx", "remittance_xlsx", "disclosure_xlsx")},
    **{f"reports.{name}": _REPORTS for name in ("inbox", "overdue", "overdue_xlsx")},
    **{f"reports_suggestions.{name}": _SUGGESTIONS for name in ("received", "assign", "reply", "close")},
    **{f"review_manage.{name}": _REVIEW for name in (
        "rounds", "open_round", "round_page", "move", "set_dates", "entry", "entry_year_pdf", "feedback", "propose",
        "decide", "plan", "handling", "excellent_reason", "results_page", "results_pdf", "results_xlsx", "owed",
        "host_opinion")},
    **{f"standing.{name}": _STANDING for name in (
        "unit", "member", "leave", "work", "talk", "case", "decide", "approve", "close")},
    **{f"development.{name}": _DEVELOPMENT for name in (
        "unit", "new_case", "assign_mentor", "end_mentor", "request_vetting", "record_findings", "open_notice",
        "add_objection", "resolve_objection", "transfer", "close")},
    **{f"development_board.{name}": _DEVELOPMENT for name in (
        "board", "board_xlsx", "probation", "notices", "notices_xlsx", "plan", "save_plan", "training_page",
        "create_class", "record_pdf")},
}

_STATIC = "the plugin's CSS, scripts and images for its pages (an app carries its own)"

DELIBERATE_GAPS: dict[str, str] = {
    **{f"{bp}.static": _STATIC for bp in ("meetings", "meetings_manage", "dues", "dues_manage", "reports",
                                          "review", "development")},
    "dues.verify": "the public check of a receipt's code, for anyone holding the paper (no login); the receipt "
                   "JSON carries receipt_code and receipt_url, which opens it",
    "dues.callback": "the payment provider's server-to-server notification, signed by the provider; no member "
                     "calls it",
}
