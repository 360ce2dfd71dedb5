"""The development vocabulary: the 25 steps (BRANCH-LIFE.md (d)), stages, outcomes, places — and their labels.

Every label is a lazy string in this plugin's domain; pages get them once through
``tk.template_labels(bp, "development", …)`` and write ``{{ case.stage|label(development_labels.stage) }}``.
"""
from __future__ import annotations

from dataclasses import dataclass

from portal.toolkit import lazy_gettext as _l

PLUGIN = "development"


@dataclass(frozen=True)
class Step:
    """One of the 25 steps: its number, code, the stage it belongs to and who takes it.

    ``actor`` is ``branch`` (the leading branch, or the host branch for its vetting parts), ``committee``
    (the approving committee: ``development.approve`` on the branch's parent) or ``mentor`` (a mentor or
    the branch). ``repeatable`` steps may be recorded more than once (assessments, training, education).
    """

    number: int
    code: str
    stage: str
    actor: str
    label: object
    repeatable: bool = False


STEPS: tuple[Step, ...] = (
    Step(1, "application", "applicant", "branch", _l("Written application")),
    Step(2, "talk", "applicant", "branch", _l("Talk with the applicant")),
    Step(3, "activist_decision", "activist", "branch", _l("Recommended and decided as an activist")),
    Step(4, "activist_filing", "activist", "committee", _l("Activist filed with the committee")),
    Step(5, "mentors_assigned", "activist", "branch", _l("Mentors assigned")),
    Step(6, "assessment", "activist", "mentor", _l("Half-yearly education and assessment"), repeatable=True),
    Step(7, "candidate_decision", "candidate", "branch", _l("Decided as a candidate for admission")),
    Step(8, "candidate_filing", "candidate", "committee", _l("Candidate filed with the committee")),
    Step(9, "introducers", "candidate", "branch", _l("Two introducers named")),
    Step(10, "political_review", "candidate", "branch", _l("Political review")),
    Step(11, "training", "candidate", "branch", _l("Concentrated training"), repeatable=True),
    Step(12, "branch_review", "candidate", "branch", _l("Reviewed by the branch committee")),
    Step(13, "committee_prereview", "candidate", "committee", _l("Pre-review by the committee")),
    Step(14, "application_form", "candidate", "branch", _l("Admission form filled in")),
    Step(15, "admission_vote", "candidate", "branch", _l("Branch assembly votes on admission")),
    Step(16, "committee_talk", "candidate", "committee", _l("Talk by the committee")),
    Step(17, "admission_approval", "probationary", "committee", _l("Admission approved by the committee")),
    Step(18, "admission_filing", "probationary", "committee", _l("Admission filed with the organisation department")),
    Step(19, "group_assignment", "probationary", "branch", _l("Assigned to a branch and group")),
    Step(20, "oath", "probationary", "branch", _l("Oath taken")),
    Step(21, "probation_education", "probationary", "branch", _l("Education during probation"), repeatable=True),
    Step(22, "conversion_application", "probationary", "branch", _l("Application for full membership")),
    Step(23, "conversion_vote", "probationary", "branch", _l("Branch assembly votes on full membership")),
    Step(24, "conversion_approval", "full", "committee", _l("Full membership approved by the committee")),
    Step(25, "archive", "full", "branch", _l("Record archived")),
)
STEP_BY_CODE = {step.code: step for step in STEPS}
STEP_CODES = tuple(step.code for step in STEPS)
#: The step whose recording moves the case to each stage (``advance`` records it).
ADVANCE_STEP = {"activist": "activist_decision", "candidate": "candidate_decision",
                "probationary": "admission_approval", "full": "conversion_approval"}

STAGE_LABELS = {"applicant": _l("Applicant"), "activist": _l("Activist"), "candidate": _l("Candidate for admission"),
                "probationary": _l("Probationary member"), "full": _l("Full member")}
OUTCOME_LABELS = {"full": _l("Admitted as a full member"), "withdrawn": _l("Withdrawn"),
                  "not_admitted": _l("Not admitted"), "cancelled": _l("Probation cancelled")}
PLACE_LABELS = {"home": _l("Home branch"), "host": _l("Host branch")}
MENTOR_PLACE_LABELS = {"home": _l("At home"), "work": _l("Where the person works")}
VETTING_PART_LABELS = {"workplace": _l("Employer"), "community": _l("Community, police and tax"),
                       "person": _l("Political review of the person"), "home_village": _l("Home village"),
                       "relatives": _l("Political review of the relatives")}
VOTE_KIND_LABELS = {"admission": _l("Admission"), "conversion": _l("Full membership")}
STEP_LABELS = {step.code: step.label for step in STEPS}

#: Every label dict, handed once to the templates (``development_labels``).
TEMPLATE_LABELS = {"stage": STAGE_LABELS, "outcome": OUTCOME_LABELS, "place": PLACE_LABELS,
                   "mentor_place": MENTOR_PLACE_LABELS, "vetting_part": VETTING_PART_LABELS,
                   "vote_kind": VOTE_KIND_LABELS, "step": STEP_LABELS}
