"""Course staff's pages about assessments and students: the assessment list with published
marks, one assessment (its timeline picture, what each student sees now, its exceptions), one
student as staff see them, and starting "view as". The matrix, the access-rule editor and the
exception forms have their own modules (:mod:`~coursegate.web.staff.matrix`,
:mod:`~coursegate.web.staff.rules`, :mod:`~coursegate.web.staff.exceptions`); the frame every
staff page shares is :mod:`~coursegate.web.staff.frame`.

Every answer comes from the services (:mod:`coursegate.services.access.decisions`,
:mod:`~coursegate.services.access.exceptions.granting`,
:mod:`~coursegate.services.access.staff.assessments`, ...), which ask the roles core again; the
routes' policies are the first door.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from coursegate.http.deps import CALLER, Caller
from coursegate.http.policy import needs
from coursegate.services.access.calendar import short_name
from coursegate.services.access.decisions.matrix import matrix
from coursegate.services.access.decisions.student import student_course
from coursegate.services.access.exceptions import listing as XL
from coursegate.services.access.staff.assessments import (
    attempts_of,
    editor_context,
    staff_overview,
)
from coursegate.services.access.staff.timeline_lanes import assessment_timeline
from coursegate.services.common.errors import Invalid
from coursegate.services.courses.roster_views import list_roster
from coursegate.services.lti.contexts import linked_lms_courses
from coursegate.services.people import signin
from coursegate.web import editor as E
from coursegate.web.pages import (
    FORM,
    Pages,
    ci_path,
    course_instance,
    redirect,
    render,
    text,
)
from coursegate.web.staff.exceptions import fields_words
from coursegate.web.staff.frame import S, staff_common, uid_from
from coursegate.web.student import describe_exception, exception_scope
from coursegate.web.svg import segment_rows, timeline_svg

pages = Pages(tags=["pages: course staff"])


# -- the assessment list ----------------------------------------------------------------------


@pages.get(S, policy=needs("vst", why="course staff: the assessments and their published marks"))
def overview(request: Request, course: str, instance: str, c: Caller = CALLER) -> HTMLResponse:
    ci = course_instance(c, course, instance)
    return render(
        request,
        "staff_overview.html",
        ov=staff_overview(c.ctx, ci),
        short_name=short_name,
        lms_courses=linked_lms_courses(c.ctx.session, ci.id),
        **staff_common(c, ci, "staff"),
    )


# -- one assessment ---------------------------------------------------------------------------


@pages.get(
    S + "/assessments/{aid:path}",
    policy=needs("vst", why="course staff: an assessment's timeline and what students see"),
)
def assessment(
    request: Request, course: str, instance: str, aid: str, c: Caller = CALLER
) -> HTMLResponse:
    ci = course_instance(c, course, instance)
    common = staff_common(c, ci, "staff")
    tl = assessment_timeline(c.ctx, ci, aid)
    m = matrix(c.ctx, course, instance, assessments=[aid])
    ctx = editor_context(c.ctx, ci, aid)
    rows = [(s, m.cell(r, 0)) for r, s in enumerate(m.students)]
    return render(
        request,
        "staff_assessment.html",
        tl=tl,
        picture=Markup(timeline_svg(tl, common["tz"])),
        picture_rows=segment_rows(tl, common["tz"]),
        rows=rows,
        exceptions=XL.assessment_exceptions(c.ctx, ci.id, aid),
        fields_words=fields_words,
        access=E.access_json(ctx.stored),
        row=ctx.row,
        **common,
    )


# -- one student, as staff see them -----------------------------------------------------------


@pages.get(
    S + "/students/{uid}",
    policy=needs("vst", why="what one student sees, their exceptions and attempts"),
)
def student(
    request: Request, course: str, instance: str, uid: str, c: Caller = CALLER
) -> HTMLResponse:
    ci = course_instance(c, course, instance)
    sc = student_course(c.ctx, course, instance, uid)
    line = next((r for r in list_roster(c.ctx, ci.id) if r.uid == uid), None)
    return render(
        request,
        "staff_student.html",
        sc=sc,
        line=line,
        exceptions=XL.student_exceptions(c.ctx, ci.id, uid),
        attempts=attempts_of(c.ctx, ci, uid),
        fields_words=fields_words,
        describe_exception=describe_exception,
        exception_scope=exception_scope,
        status_of=c.ctx.user(uid).status,
        **staff_common(c, ci, "roster"),
    )


@pages.post(
    S + "/view-as", policy=needs("ain", why="view the course as one of its students or TAs")
)
def view_as(
    request: Request, course: str, instance: str, form: FormData = FORM, c: Caller = CALLER
) -> Response:
    """See the course as the student sees it (the same service as the API's view-as): every
    page then says so, with a way back."""
    ci = course_instance(c, course, instance)
    uid = uid_from(text(form, "uid"))
    if c.web_session is None:
        raise Invalid("view-as needs a signed-in browser session", "uid")
    uid = signin.start_view_as(c.ctx, c.web_session, uid, ci.id).uid  # as stored
    request.state.viewing_as = uid
    return redirect(request, ci_path(ci), f"You are now viewing the course as {uid}.")
