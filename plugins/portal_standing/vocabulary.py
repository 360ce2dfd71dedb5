"""The standing vocabulary: dimensions, steps, case states, what resets each dimension — and their labels.

Every label is a lazy string in this plugin's domain; pages get them once through
``tk.template_labels(bp, "standing", …)`` and write ``{{ row.step|label(standing_labels.step) }}``.
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

PLUGIN = "standing"

DIMENSION_LABELS = {"branch_life": _l("Branch life"), "dues": _l("Dues"), "work": _l("Assigned work")}
STEP_LABELS = {"none": _l("In good standing"), "reminder": _l("Reminder"), "talk": _l("Talk"),
               "notice": _l("Written notice"), "case": _l("Case for the branch assembly")}
CASE_STATE_LABELS = {"open": _l("Open"), "decided": _l("Decided by the branch assembly"),
                     "approved": _l("Approved by the upper committee"), "closed": _l("Closed")}
#: What ends a gap, in words for the member (BRANCH-LIFE.md (b)).
RESET_LABELS = {
    "branch_life": _l("Take part in a meeting of any branch, on site or online."),
    "dues": _l("Pay a month's dues."),
    "work": _l("Do work the branch assigns you; the secretary records it."),
}

#: Every label dict, handed once to the templates (``standing_labels``).
TEMPLATE_LABELS = {"dimension": DIMENSION_LABELS, "step": STEP_LABELS, "case_state": CASE_STATE_LABELS,
                   "reset": RESET_LABELS}
