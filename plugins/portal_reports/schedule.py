"""When reports are due: the period per stage (settings), reminders before a period ends, the overdue list."""
from __future__ import annotations

from portal.toolkit import lazy_gettext as _l

FREQUENCY_LABELS = {"quarterly": _l("Quarterly"), "half_yearly": _l("Every half year"), "yearly": _l("Yearly")}
#: ``{key: (setting label, default)}``: ``away`` applies to full members away from home; the others by stage.
STAGE_DEFAULTS = {
    "away": (_l("Report frequency: members away from home"), "quarterly"),
    "full": (_l("Report frequency: full members at home"), "yearly"),
    "probationary": (_l("Report frequency: probationary members"), "quarterly"),
    "candidate": (_l("Report frequency: candidates"), "quarterly"),
    "activist": (_l("Report frequency: activists"), "quarterly"),
}
