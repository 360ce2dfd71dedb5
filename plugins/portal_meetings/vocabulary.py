"""The meetings vocabulary: kinds, modes, states, attendance, notice audiences — and their labels.

Every label is a lazy string in this plugin's domain; pages get them once through
``tk.template_labels(bp, "meetings", …)`` and write ``{{ value|label(meetings_labels.kind) }}``.
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

PLUGIN = "meetings"

KIND_LABELS = {
    "assembly": _l("Branch assembly"),          # 支部党员大会
    "committee": _l("Branch committee meeting"),  # 支委会
    "group": _l("Group meeting"),                # 党小组会
    "lecture": _l("Party lecture"),              # 党课
    "theme_day": _l("Theme day"),                # 主题党日
    "life_meeting": _l("Annual life meeting"),   # 组织生活会
    "homecoming": _l("Home-coming talk"),        # 返乡座谈
}
MODE_LABELS = {"onsite": _l("On site"), "online": _l("Online"), "hybrid": _l("On site and online")}
STATUS_LABELS = {
    "draft": _l("Draft"), "notified": _l("Called"), "held": _l("Held"), "minuted": _l("Minuted"),
    "archived": _l("Archived"), "cancelled": _l("Cancelled"),
}
ROLE_LABELS = {
    "voting": _l("Full member"), "probationary": _l("Probationary member"), "committee": _l("Committee member"),
    "hosted": _l("Hosted member"), "attending": _l("Attending without vote"), "activist": _l("Activist"),
    "guest": _l("Guest"),
}
ATTENDANCE_LABELS = {
    "expected": _l("Expected"), "present": _l("Present"), "online": _l("Attended online"),
    "leave_requested": _l("Leave requested"), "leave": _l("On leave"), "absent": _l("Absent"),
}
LEAVE_LABELS = {"requested": _l("Requested"), "approved": _l("Approved"), "refused": _l("Refused")}
METHOD_LABELS = {"qr": _l("Scanned the code"), "register": _l("Ticked by the secretary"), "online": _l("Joined online")}
FREQUENCY_LABELS = {"monthly": _l("Monthly"), "quarterly": _l("Quarterly"), "yearly": _l("Yearly"),
                    "none": _l("No minimum")}
#: Months in each frequency period.
FREQUENCY_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
#: Minimum frequency per kind (BRANCH-LIFE.md (a)); each is a setting ``frequency_<kind>``.
DEFAULT_FREQUENCIES = {"assembly": "quarterly", "committee": "monthly", "group": "monthly", "lecture": "quarterly",
                       "theme_day": "monthly", "life_meeting": "yearly", "homecoming": "none"}
AUDIENCE_LABELS = {"unit": _l("The unit's members"), "subtree": _l("The unit and every unit below it"),
                   "away": _l("Only members away"), "list": _l("Chosen members")}
NOTICE_KIND_LABELS = {"general": _l("General"), "meeting": _l("Meeting"), "dues": _l("Dues"),
                      "election": _l("Election"), "study": _l("Study"), "urgent": _l("Urgent")}

#: Every label dict, handed once to the templates of each blueprint that shows meetings (``meetings_labels``).
TEMPLATE_LABELS = {
    "kind": KIND_LABELS, "mode": MODE_LABELS, "status": STATUS_LABELS, "role": ROLE_LABELS,
    "attendance": ATTENDANCE_LABELS, "leave": LEAVE_LABELS, "method": METHOD_LABELS, "frequency": FREQUENCY_LABELS,
    "audience": AUDIENCE_LABELS, "notice_kind": NOTICE_KIND_LABELS,
}
