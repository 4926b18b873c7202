"""What every course staff page shares: the paths under a course instance, the page frame
(:func:`staff_common`: the navigation links the user may follow, the course's zone, now), and a
person shown and read back as ``Full Name (uid)``."""

from __future__ import annotations

import re
from typing import Any

from coursegate.http.deps import Caller
from coursegate.services.access.my_courses import may
from coursegate.services.common.places import course_zone
from coursegate.store.models import CourseInstance

CI = "/courses/{course}/instances/{instance}"
S = CI + "/staff"


def staff_common(c: Caller, ci: CourseInstance, here: str) -> dict[str, Any]:
    """What every staff page shows: the course instance's navigation (links the user may
    follow), the course's zone, now."""
    out: dict[str, Any] = {
        "ci": ci,
        "ci_key": (ci.course.name, ci.short_name),
        "tz": course_zone(ci),
        "at": c.ctx.at,
        "here": here,
        "staff": True,
        "can": {p: may(c.ctx, p, ci) for p in ("gex", "men", "mus", "ain", "opa", "vhi", "mcr")},
    }
    out["accounts"] = out["can"]["mus"]
    return out


def person(name: str, uid: str) -> str:
    """Full name and uid together: ``Ana Alvarez (ana@example.edu)``."""
    return f"{name} ({uid})" if name else uid


_UID_IN_LABEL = re.compile(r"\(([^()\s]+)\)\s*$")


def uid_from(text_: str) -> str:
    """A uid typed alone, or picked as ``Full Name (uid)``."""
    m = _UID_IN_LABEL.search(text_)
    return m.group(1) if m else text_.strip()
