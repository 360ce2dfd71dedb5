"""The dues vocabulary and its labels (lazy strings in this plugin's domain)."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

PLUGIN = "dues"

CATEGORY_LABELS = {
    "salaried": _l("Salaried"), "retired": _l("Retired"), "farmer": _l("Farmer"),
    "student": _l("Student"), "unemployed": _l("Unemployed or on relief"), "self_employed": _l("Self-employed"),
}
CHANNEL_LABELS = {
    "cash": _l("Cash"), "transfer": _l("Bank transfer"), "host_branch": _l("Paid at the host branch"),
    "on_behalf": _l("Paid on the member's behalf"), "online": _l("Online payment"),
}
PAYMENT_STATUS_LABELS = {"reported": _l("Reported by the member"), "pending": _l("Waiting for the payment"),
                         "confirmed": _l("Confirmed"), "rejected": _l("Rejected")}
REDUCTION_STATE_LABELS = {"requested": _l("Requested"), "branch_agreed": _l("Agreed by the branch"),
                          "approved": _l("Approved"), "refused": _l("Refused"), "withdrawn": _l("Withdrawn")}
ARREARS_STEP_LABELS = {1: _l("Reminder"), 3: _l("Talk due"), 5: _l("Written notice"), 6: _l("Case for the branch")}
ROUNDING_LABELS = {"half_up": _l("To the nearest fen (half up)"), "down": _l("Down to the fen"), "up": _l("Up to the fen")}
#: How a member stands for one month on the secretary's list and the member page.
MONTH_STATUS_LABELS = {"paid": _l("Paid"), "unpaid": _l("Not paid"), "reported": _l("Reported, to confirm"),
                       "no_profile": _l("No dues profile"), "not_due": _l("Nothing due")}

#: Every label dict, handed once to the templates of each blueprint that shows dues (``dues_labels``).
TEMPLATE_LABELS = {
    "category": CATEGORY_LABELS, "channel": CHANNEL_LABELS, "payment_status": PAYMENT_STATUS_LABELS,
    "reduction": REDUCTION_STATE_LABELS, "step": ARREARS_STEP_LABELS, "month_status": MONTH_STATUS_LABELS,
}
