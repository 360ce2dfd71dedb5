"""Translated labels of the coded values mobility stores (statuses, channels, bands)."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

CHANNEL_LABELS = {"call": _l("phone call"), "message": _l("message"), "visit": _l("visit"), "video": _l("video call"),
                  "letter": _l("letter")}
OUTFLOW_STATUS_LABELS = {
    "pending": _l("waiting for approval"), "changes_requested": _l("changes requested"), "approved": _l("approved"),
    "returned": _l("returned"), "transferred": _l("membership transferred"), "cancelled": _l("withdrawn"),
}
CHECKIN_STATUS_LABELS = {"pending": _l("waiting for the host branch"), "confirmed": _l("confirmed"),
                         "rejected": _l("declined"), "ended": _l("ended")}
IDENTITY_LABELS = {"pending": _l("identity to be confirmed by the home branch"), "confirmed": _l("identity confirmed"),
                   "rejected": _l("identity not confirmed")}
REVIEW_OUTCOME_LABELS = {"renewed": _l("passed, certificate renewed"), "follow_up": _l("needs follow-up"),
                         "closed": _l("certificate closed")}
REVIEW_CHECK_LABELS = {
    "kept_contact": _l("Kept in touch with the home branch"), "branch_life": _l("Took part in branch life where they are"),
    "dues_paid": _l("Paid dues"), "reports_sent": _l("Sent personal reports"),
    "details_current": _l("Whereabouts and contact details are up to date"),
}
#: What the annual review counts from the stream (plugins for dues, reports and meetings record these verbs).
REVIEW_FACT_LABELS = {"report.submitted": _l("Personal reports received"), "dues.paid": _l("Dues payments"),
                      "meeting.attended": _l("Meetings attended"), "contact.logged": _l("Contacts logged")}
TRANSFER_STATUS_LABELS = {"pending": _l("waiting for approval"), "approved": _l("completed"), "rejected": _l("declined"),
                          "cancelled": _l("withdrawn")}
AGE_BAND_LABELS = {"under_35": _l("under 35"), "35_45": _l("35–45"), "45_55": _l("45–55"), "55_plus": _l("55 and over"),
                   "unknown": _l("unknown")}
DURATION_LABELS = {"under_6m": _l("under 6 months"), "6_12m": _l("6–12 months"), "1_2y": _l("1–2 years"),
                   "2y_plus": _l("2 years and more")}
