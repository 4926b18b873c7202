"""The top-level keys of each course file.

coursegate reads the access-related keys; the other keys PrairieLearn defines (zones,
questions, groups, ...) are accepted and left alone. An unknown key close to a known one
(``allowAcess``) is an error with a "did you mean"; any other unknown key is a warning.

Two top-level keys identify things, as in PrairieLearn's sync: ``uuid`` (required in
infoCourseInstance.json and infoAssessment.json, optional in infoCourse.json, a UUID wherever it
is written) and an assessment's ``set`` (one of infoCourse.json's ``assessmentSets`` or of
PrairieLearn's standard sets).
"""

from __future__ import annotations

import re
from typing import Any

from coursegate.courses.problems import Problem, did_you_mean

COURSE_KEYS = frozenset(
    {
        "uuid", "name", "title", "timezone", "institution", "options", "assessmentSets",
        "assessmentModules", "topics", "tags", "sharingSets", "comment", "exampleCourse",
        "userRoles", "shortName", "longName",
    }
)  # fmt: skip

INSTANCE_KEYS = frozenset(
    {
        "uuid", "longName", "shortName", "number", "timezone", "allowAccess", "accessControl",
        "accessControlOverrides", "publishing", "selfEnrollment", "studentLabels",
        "setAccessControl", "comment", "shareSourcePublicly", "groupAssessmentsBy",
        "hideInEnrollPage", "userRoles", "allowIssueReporting", "enrollment",
    }
)  # fmt: skip

ASSESSMENT_KEYS = frozenset(
    {
        "uuid", "type", "title", "set", "number", "module", "allowAccess", "accessControl",
        "accessControlOverrides", "zones", "text", "comment", "multipleInstance",
        "shuffleQuestions", "constantQuestionValue", "allowIssueReporting",
        "allowRealTimeGrading", "allowPersonalNotes", "autoClose", "requireHonorCode",
        "honorCode", "groupWork", "groupMaxSize", "groupMinSize", "groupRoles",
        "studentGroupCreate", "studentGroupJoin", "studentGroupLeave", "studentGroupChooseName",
        "canView", "canSubmit", "groups", "advanceScorePerc", "gradeRateMinutes", "maxPoints",
        "maxBonusPoints", "shareSourcePublicly", "tools", "showCloseAssessment",
        "includeInStatistics", "questionParams", "scoreAllowAccess",
    }
)  # fmt: skip


def check_top_level(data: dict[str, object], known: frozenset[str], file: str) -> list[Problem]:
    out: list[Problem] = []
    for key in data:
        if key in known:
            continue
        hint = did_you_mean(key, known)
        if hint is not None:
            out.append(Problem(file, f"$.{key}", f"unknown key {key!r} (did you mean {hint!r}?)"))
        else:
            out.append(
                Problem(
                    file,
                    f"$.{key}",
                    f"key {key!r} is not one coursegate or PrairieLearn knows; it is ignored",
                    "warning",
                )
            )
    return out


# --------------------------------------------------------------------------- uuid and set

UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

STANDARD_ASSESSMENT_SETS = (
    "Homework",
    "Quiz",
    "Practice Quiz",
    "Exam",
    "Practice Exam",
    "Prep",
    "Machine Problem",
    "Worksheet",
    "Unknown",
)
"""PrairieLearn's standard assessment sets (``DEFAULT_ASSESSMENT_SETS`` in its
``sync/course-db.ts``): an assessment may use them without infoCourse.json listing them."""


MISSING_UUID_SEVERITY = "error"
"""A course instance or assessment without a ``uuid`` is an error, as in PrairieLearn's sync
("UUID is missing"): the uuid is how an assessment keeps its identity when its folder is
renamed, and how exam reservations find it. (Malformed and duplicated uuids are errors too.)"""


def check_uuid(data: dict[str, Any], file: str, *, required: bool) -> list[Problem]:
    """The file's own ``uuid``: present when ``required`` (see :data:`MISSING_UUID_SEVERITY`),
    and a UUID whenever written."""
    if "uuid" not in data:
        if not required:
            return []
        return [
            Problem(
                file,
                "$",
                "'uuid' is missing: PrairieLearn refuses this file without one (generate one "
                "with uuidgen)",
                MISSING_UUID_SEVERITY,
            )
        ]
    value = data["uuid"]
    if not isinstance(value, str) or not UUID.match(value):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        return [
            Problem(
                file,
                "$.uuid",
                f"{shown} is not a UUID (like 11e89892-3eff-4d7f-90a2-221372f14e5c; "
                "generate one with uuidgen)",
            )
        ]
    return []


def assessment_sets(data: dict[str, Any], file: str) -> tuple[frozenset[str], list[Problem]]:
    """The set names an assessment may use: infoCourse.json's ``assessmentSets`` and the
    standard ones."""
    names = set(STANDARD_ASSESSMENT_SETS)
    raw = data.get("assessmentSets", [])
    if not isinstance(raw, list):
        return frozenset(names), [
            Problem(file, "$.assessmentSets", 'must be a list like [{"name": "Lab", ...}]')
        ]
    problems: list[Problem] = []
    for i, entry in enumerate(raw):
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name:
            names.add(name)
        else:
            problems.append(
                Problem(file, f"$.assessmentSets[{i}]", 'each set needs a "name" in quotes')
            )
    return frozenset(names), problems


def check_set(data: dict[str, Any], file: str, known: frozenset[str]) -> list[Problem]:
    """An assessment's ``set`` is text naming a defined set."""
    if "set" not in data:
        return []
    value = data["set"]
    if not isinstance(value, str):
        return [
            Problem(
                file, "$.set", f"must be the name of an assessment set in quotes (found {value!r})"
            )
        ]
    if value in known:
        return []
    hint = did_you_mean(value, known)
    own = sorted(known - set(STANDARD_ASSESSMENT_SETS))
    return [
        Problem(
            file,
            "$.set",
            f"{value!r} is not an assessment set"
            + (f" (did you mean {hint!r}?)" if hint else "")
            + "; add it to assessmentSets in infoCourse.json or use one of "
            + ", ".join(own + list(STANDARD_ASSESSMENT_SETS)),
        )
    ]
