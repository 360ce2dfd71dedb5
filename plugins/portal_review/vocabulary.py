"""The review vocabulary: round steps, grades, handling steps — and their labels.

Every label is a lazy string in this plugin's domain; pages get them once through
``tk.template_labels(bp, "review", …)`` and write ``{{ entry.grade|label(review_labels.grade) }}``.
"""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

PLUGIN = "review"

STATUS_LABELS = {"study": _l("Study"), "self": _l("Self-assessment"), "mutual": _l("Mutual assessment"),
                 "grading": _l("Grading"), "reported": _l("Reported upward"), "closed": _l("Closed")}
GRADE_LABELS = {"excellent": _l("Excellent"), "qualified": _l("Qualified"), "basic": _l("Basically qualified"),
                "unqualified": _l("Unqualified")}
HANDLING_LABELS = {"correction": _l("Correction within a time limit"), "persuasion": _l("Persuaded to withdraw"),
                   "removal": _l("Removal")}

#: Every label dict, handed once to the templates (``review_labels``).
TEMPLATE_LABELS = {"status": STATUS_LABELS, "grade": GRADE_LABELS, "handling": HANDLING_LABELS}
