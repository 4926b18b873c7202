"""The top-level keys of each course file.

coursegate reads the access-related keys; the other keys PrairieLearn defines (zones,
questions, groups, ...) are accepted and left alone. An unknown key close to a known one
(``allowAcess``) is an error with a "did you mean"; any other unknown key is a warning.
"""

from __future__ import annotations

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
