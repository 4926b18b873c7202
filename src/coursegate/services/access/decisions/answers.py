"""Decision requests over HTTP — ``POST /api/v1/decisions`` and its batch form — answered from
stored state. One cohesive thing: the five stages of a stored decision, kept together so that
the general way, the kept way (``kept.py``) and the grouped batch (``batch.py``) share each
stage rather than copy it.

The request is the one of ``coursegate decide`` (docs/decisions.md) with ``course`` naming a
course in the database; everything the store knows about the user is filled in here, and a
request that tries to supply it is refused. A request travels one way, each stage visited
once, as a request from course files does (:mod:`coursegate.services.access.decisions.request`):

1. **parse** — :func:`read_question`: the JSON object, checked field by field, into a
   :class:`Question` (nothing looked up yet);
2. **load the course** — :func:`request_course_instance`: the course instance the request
   names (requests are grouped by course instance: each is looked up once);
3. **build the core's input** — :func:`build_input`: the instant and the zone of the answer,
   and the user's facts — their row of the compiled course instance kept by
   :mod:`coursegate.services.access.decisions.cache`, with their own attempt and role read by
   the same query, or (a staff role, or not enrolled) :class:`~coursegate.core.engine.Facts` of
   their own. Who may see whom (:func:`permitted`) and what the store holds (:class:`Stored`)
   are read once per course instance, before the first request of it;
4. **decide** — :func:`decide`: the core's decisions, a look-up in the compiled form (or the
   user's own timelines, compiled once per batch);
5. **render** — :func:`render`: the JSON of ``coursegate decide``, as bytes.

The mode: a request's ``mode`` when it gives one. A request about oneself that leaves it out is
decided in the request's own mode when the HTTP layer found it to be Exam (a testing-centre
network, or an instructor's own switch: ``request_mode``, docs/exam-mode.md), with the reason
first in the explanation; otherwise Public, as in ``coursegate decide``.

Answers are serialised once, to bytes, because a batch holds up to 10,000 of them: the JSON
of each distinct decision of a compiled course instance is kept with it (the decisions are
shared by every student the core put in the same slot), so most answers are assembled from
ready-made pieces.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import String, bindparam, select
from sqlalchemy.orm import contains_eager

from coursegate.core.decision import AssessmentDecision, CourseInstanceDecision
from coursegate.core.engine import AssessmentConfig, Facts, Student, timelines
from coursegate.core.instants import DateError, Instant, format_instant, zone
from coursegate.core.model import InstanceFacts, Mode, Role, canonical_uid
from coursegate.core.timeline import Timeline
from coursegate.courses.problems import CourseError
from coursegate.services.access.decisions.cache import (
    CompiledState,
    UsersNow,
    compiled_state,
    read_users,
    remember_name,
)
from coursegate.services.access.decisions.request_values import known_assessment, read_at
from coursegate.services.access.exam_mode import RequestMode, explained
from coursegate.services.access.view_permissions import VIEW_STUDENTS
from coursegate.services.common.authz import allowed, refused
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Invalid, NotFound, ServiceError
from coursegate.services.common.places import find_course_instance, instance_area, instance_label
from coursegate.services.courses.roster import student_for
from coursegate.store.models import Course, CourseInstance, User

MAX_BATCH = 10_000
"""The most decision requests one batch may hold."""
REQUEST_FIELDS = ("at", "course", "course_instance", "assessment", "user", "mode", "timezone")
SERVER_FIELDS = (
    "course_instance_config", "assessment_config", "student_overrides", "reservations",
    "enrollment", "instance",
)  # fmt: skip
"""Fields of the file-based request that the server fills from the database."""
SERVER_USER_FIELDS = ("role", "sections", "institution")
STAFF_ROLES = {"cc": Role.INSTRUCTOR, "in": Role.INSTRUCTOR, "ta": Role.TA}
"""Course roles that decide as course staff (the staff override): course coordinators and
instructors as instructors, TAs as TAs. Every other role decides as a student."""

Answer = bytes | ServiceError
"""A serialised decision, or the error that answers the request instead."""


# -- 1. parse ---------------------------------------------------------------------------------


class TooLarge(ServiceError):
    code = "too_large"
    status = 413


@dataclass(frozen=True, slots=True)
class Question:
    """One decision request, read and checked (nothing looked up yet)."""

    course: str
    course_instance: str | None
    assessment: str | None
    uid: str
    mode: Mode
    at: str | None
    timezone: str | None
    mode_given: bool = True
    """Whether the request named its mode (else it may take the request's own mode)."""
    own_mode: RequestMode | None = None
    """The request's own mode when the question takes it (its reason goes first in the
    explanation)."""


def _server_fills(name: str) -> Invalid:
    return Invalid(
        f"{name}: the server fills this from the database (the synced course files and the"
        " user's stored role, sections, enrollment, exceptions, reservations and attempt);"
        " leave it out",
        name,
    )


def _text(raw: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = raw.get(name)
    if value is None:
        if required:
            raise Invalid(f"{name}: required (a string)", name)
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise Invalid(f"{name}: must be a non-empty string, not {value!r}", name)
    return value


def read_question(raw: object, default_uid: str) -> Question:
    """Check one decision request (a parsed JSON object); ``user.uid`` defaults to
    ``default_uid`` (the signed-in user). Raises :class:`Invalid` naming the field."""
    if not isinstance(raw, dict):
        raise Invalid("a decision request is a JSON object {...}", "$")
    for key in raw:
        if key in REQUEST_FIELDS:
            continue
        if key in SERVER_FIELDS:
            raise _server_fills(key)
        raise Invalid(
            f"{key}: not a field of a decision request (the fields: {', '.join(REQUEST_FIELDS)})",
            str(key),
        )
    course = _text(raw, "course", required=True)
    assert course is not None
    uid = default_uid
    user = raw.get("user")
    if user is not None:
        if not isinstance(user, dict):
            raise Invalid('user: must be an object such as {"uid": "..."}', "user")
        for key in user:
            if key in SERVER_USER_FIELDS:
                raise _server_fills(f"user.{key}")
            if key != "uid":
                raise Invalid(f"user.{key}: not a field of user (only uid)", f"user.{key}")
        given = user.get("uid")
        if given is not None:
            if not isinstance(given, str) or not given.strip():
                raise Invalid(f"user.uid: must be a non-empty string, not {given!r}", "user.uid")
            uid = canonical_uid(given)  # Ana@Example.EDU asks about ana@example.edu
    mode = raw.get("mode", "Public")
    if mode not in ("Public", "Exam"):
        raise Invalid(f"mode: must be 'Public' or 'Exam', not {mode!r}", "mode")
    tz = _text(raw, "timezone")
    if tz is not None:
        try:
            zone(tz)
        except DateError as exc:
            raise Invalid(f"timezone: {exc}", "timezone") from None
    return Question(
        course=course,
        course_instance=_text(raw, "course_instance"),
        assessment=_text(raw, "assessment"),
        uid=uid,
        mode=Mode(mode),
        at=_text(raw, "at"),
        timezone=tz,
        mode_given="mode" in raw,
    )


# -- 2. load the course -----------------------------------------------------------------------


@functools.cache
def _course_instance_query() -> Any:
    """The course instance with its course, by names (built once; names bound per call)."""
    return (
        select(CourseInstance)
        .join(Course, Course.id == CourseInstance.course_id)
        .options(contains_eager(CourseInstance.course))
        .where(
            Course.name == bindparam("course", type_=String),
            CourseInstance.short_name == bindparam("instance", type_=String),
        )
    )


def request_course_instance(ctx: Ctx, course: str, instance: str | None) -> CourseInstance:
    """The course instance a request names; ``instance`` may be left out when the course has
    only one."""
    if instance is not None:
        found: CourseInstance | None = ctx.session.scalars(
            _course_instance_query(), {"course": course, "instance": instance}
        ).one_or_none()
        if found is None:
            return find_course_instance(ctx, course, instance)  # raises NotFound
        return found
    rows = ctx.session.scalars(
        select(CourseInstance)
        .join(Course, Course.id == CourseInstance.course_id)
        .where(Course.name == course)
        .order_by(CourseInstance.short_name)
    ).all()
    if not rows:
        raise NotFound(f"course: there is no course {course!r}", "course")
    if len(rows) > 1:
        names = ", ".join(r.short_name for r in rows)
        raise Invalid(
            f"course_instance: {course} has several course instances; name one: {names}",
            "course_instance",
        )
    return rows[0]


# -- 3. build the core's input ----------------------------------------------------------------


def permitted(
    ctx: Ctx, ci: CourseInstance, items: Sequence[tuple[int, Question]], out: list[Answer]
) -> list[tuple[int, Question]]:
    """The requests whose asker may see the answer; the others are answered :class:`Refused`
    in ``out``. A student may see their own decisions; whether the asker may see everyone's
    (``vst``) is asked of the roles core once, and only when someone else is asked about."""
    label = instance_label(ci)
    viewing_all: tuple[bool, str] | None = None
    todo: list[tuple[int, Question]] = []
    for k, q in items:
        if ctx.is_self(q.uid, ci.id):
            todo.append((k, q))
            continue
        if viewing_all is None:
            viewing_all = allowed(ctx, VIEW_STUDENTS, instance_area(ci))
        ok, why = viewing_all
        if ok:
            todo.append((k, q))
        else:
            out[k] = refused(
                ctx, VIEW_STUDENTS, instance_area(ci), f"view the access of {q.uid} in {label}", why
            )
    return todo


class _Pieces:
    """Serialised parts of answers: the JSON of decisions by ``id`` (each kept with its
    decision, so the id cannot be reused meanwhile) — shared with a cache entry — and of
    instants, for one batch."""

    def __init__(self, shared: dict[int, tuple[object, bytes]]) -> None:
        self.shared = shared
        self.ats: dict[tuple[Instant, str], bytes] = {}

    def decision(self, d: AssessmentDecision | CourseInstanceDecision, tz: tzinfo) -> bytes:
        hit = self.shared.get(id(d))
        if hit is None:
            hit = self.shared[id(d)] = (d, _json(d.to_json(tz)))
        return hit[1]

    def at(self, t: Instant, tz: tzinfo) -> bytes:
        key = (t, str(tz))
        found = self.ats.get(key)
        if found is None:
            found = self.ats[key] = _json(format_instant(t, tz))
        return found


class Alone:
    """A user decided on their own, outside the compiled course instance (a staff role, or not
    — or no longer — enrolled): their facts for one assessment (or none) in one zone, and the
    core's timelines of them once :func:`decide` compiled them (once per batch)."""

    __slots__ = ("config", "facts", "timelines", "tz")

    def __init__(self, config: AssessmentConfig | None, facts: Facts, tz: ZoneInfo) -> None:
        self.config = config
        self.facts = facts
        self.tz = tz
        self.timelines: (
            tuple[Timeline[CourseInstanceDecision], Timeline[AssessmentDecision] | None] | None
        ) = None


InRow = tuple[CompiledState, _Pieces, int, int | None, Mode, InstanceFacts | None]
"""A student's row of a compiled course instance: the entry and the JSON kept with it, the row,
the assessment's column (None: the course instance only), the mode and their own attempt."""
CoreInput = tuple[Instant, ZoneInfo, InRow | Alone]
"""What the core decides one request from: the instant, the zone of the answer, and the user."""


class NotKept(Exception):
    """What a request needs is not kept in this process (answered from kept state only): the
    request goes the general way."""


class Stored:
    """What the requests of one course instance are decided from, read once for all of them:
    what the store holds now about the users asked about (one query,
    :func:`~coursegate.services.access.decisions.cache.read_users`) and the course instance
    compiled for its students, from the cache, in each zone asked for."""

    def __init__(self, ctx: Ctx, ci: CourseInstance, uids: Collection[str]) -> None:
        # One query: the counters, and everything about these users a decision depends on
        # (with their course roles and attempts); the compiled form is used only if it agrees.
        now = read_users(ctx.session, ci, uids)
        base = compiled_state(ctx.session, ci, now)
        self._setup(ctx, ctx.at, ci.id, ci.timezone, now, base)
        self.ci = ci
        for u in {now.ids[x] for x in uids if x in now.ids}:
            base.keep_roles(u, now.signatures[u], now.roles.get(u, []))

    @classmethod
    def kept(cls, at: Instant, base: CompiledState, now: UsersNow) -> Stored:
        """Requests answered from what this process keeps alone (``now`` says the counters
        agree): anything else needed raises :class:`NotKept`."""
        stored = cls.__new__(cls)
        stored._setup(None, at, base.ci_id, base.tz_name, now, base)
        return stored

    def _setup(
        self,
        ctx: Ctx | None,
        at: Instant,
        ci_id: int,
        tz_name: str,
        now: UsersNow,
        base: CompiledState,
    ) -> None:
        self.ctx = ctx
        self.at = at
        self.ci_id = ci_id
        self.tz_name = tz_name
        self.now = now
        self.base = base
        self.pieces = _Pieces(base.memo)
        self.entries: dict[str, tuple[CompiledState, _Pieces]] = {tz_name: (base, self.pieces)}
        self.state = base.state
        self.zones: dict[str, ZoneInfo] = {tz_name: self.state.tz}
        self.local = _Pieces({})  # decisions of this batch alone (staff, people not enrolled)
        self.alone: dict[tuple[object, ...], Alone] = {}

    def entry(self, tz_name: str) -> tuple[CompiledState, _Pieces]:
        """The course instance compiled in the zone ``tz_name``, and the JSON kept with it."""
        found = self.entries.get(tz_name)
        if found is None:
            if self.ctx is None:
                raise NotKept(tz_name)
            compiled = compiled_state(self.ctx.session, self.ci, self.now, tz_name)
            found = self.entries[tz_name] = (compiled, _Pieces(compiled.memo))
        return found

    def zone(self, tz_name: str) -> ZoneInfo:
        """The zone ``tz_name`` (checked when the request was read), kept in :attr:`zones`."""
        tz = self.zones.get(tz_name)
        if tz is None:
            tz = self.zones[tz_name] = zone(tz_name)
        return tz

    def student(self, uid_id: int, row: int | None) -> Student:
        """The user as the core sees them: their row of the roster, or read on their own (and
        kept with the compiled form under their counters)."""
        if row is not None:
            return self.base.roster[row].student
        sig = self.now.signatures.get(uid_id)
        student = self.base.patched(uid_id, sig)
        if student is None:
            if self.ctx is None or sig is None:
                raise NotKept(uid_id)
            user = self.ctx.session.get(User, uid_id)
            assert user is not None
            student = student_for(self.ctx.session, self.ci, self.state, user)
            self.base.keep_patch(uid_id, sig, student)
        return student


def build_input(stored: Stored, q: Question) -> CoreInput:
    """The instant and zone of the answer to ``q`` and the user as the core decides them: their
    row of the compiled course instance, or (a staff role, or not enrolled) on their own."""
    tz_name, tz, when = read_instant(stored, q)
    return when, tz, user_input(stored, q, tz_name, tz, when)


def read_instant(stored: Stored, q: Question) -> tuple[str, ZoneInfo, Instant]:
    """The zone of the answer to ``q`` (its name and itself) and the instant it is decided at
    (the request's ``at``, else now). Raises :class:`Invalid` for an ``at`` it cannot read."""
    tz_name = q.timezone or stored.tz_name
    tz = stored.zones.get(tz_name) or stored.zone(tz_name)
    at = read_at(q.at, tz)
    return tz_name, tz, stored.at if at is None else at


def user_input(
    stored: Stored, q: Question, tz_name: str, tz: ZoneInfo, when: Instant
) -> InRow | Alone:
    """The user of ``q`` as the core decides them at ``when``: their row of the compiled course
    instance in ``tz_name``, or (a staff role at ``when``, or not enrolled) on their own. It
    depends on ``when`` only through the course-staff roles the user holds
    (:func:`holds_staff_roles`)."""
    now = stored.now
    uid_id = now.ids.get(q.uid)
    if uid_id is None:
        raise NotFound(f"user.uid: there is no user {q.uid!r}", "user.uid")
    base = stored.base
    sig = now.signatures.get(uid_id)
    entry, pieces = (base, stored.pieces) if tz_name == stored.tz_name else stored.entry(tz_name)
    row = entry.row(uid_id, sig)
    j: int | None = None
    if q.assessment is not None:
        j = base.compiled.assessment_index.get(q.assessment)
        if j is None:
            known_assessment(stored.state, q.assessment)  # raises NotFound, naming them all
            raise NotFound(f"there is no assessment {q.assessment!r}", "assessment")
    role = _role_at(now.roles.get(uid_id, ()), when)
    attempt = (
        now.attempts.get(uid_id, {}).get(stored.state.assessment_ids[q.assessment])
        if q.assessment
        else None
    )
    if row is not None and role is Role.STUDENT:
        return (entry, pieces, row, j, q.mode, attempt)
    key = (q.uid, q.assessment, q.mode, role, tz_name)
    alone = stored.alone.get(key)
    if alone is None:
        student = stored.student(uid_id, base.row(uid_id, sig))
        facts = Facts(
            user=replace(student.user, role=role),
            mode=q.mode,
            reservations=student.reservations,
            personal=student.personal.get(q.assessment, ()) if q.assessment else (),
            enrollment=student.enrollment,
            instance=attempt,
        )
        config = None if j is None else base.compiled.assessments[j]
        alone = stored.alone[key] = Alone(config, facts, tz)
    return alone


def holds_staff_roles(stored: Stored, uid: str) -> bool:
    """Whether ``uid`` holds a course-staff role here at any time (then :func:`user_input`
    depends on the instant); False for a user who does not exist."""
    uid_id = stored.now.ids.get(uid)
    return uid_id is not None and bool(stored.now.roles.get(uid_id))


def _role_at(held: Sequence[tuple[str, Instant | None, Instant | None]], at: Instant) -> Role:
    """The highest course-staff role in force at ``at`` (Student when none)."""
    best = Role.STUDENT
    for code, begins, ends in held:
        role = STAFF_ROLES.get(code, Role.STUDENT)
        if (begins is None or begins <= at) and (ends is None or at < ends) and role > best:
            best = role
    return best


# -- 4. decide --------------------------------------------------------------------------------

Decided = tuple[CourseInstanceDecision, AssessmentDecision | None, _Pieces]
"""The decisions for the course instance and the assessment (None: none asked about), and
where their JSON is kept."""


def decide(stored: Stored, user: InRow | Alone, when: Instant) -> Decided:
    """The core's decisions at ``when``: a look-up in the compiled course instance (a cell of
    its own for an attempt or Exam mode, compiled once per slot), or the user's own timelines."""
    if isinstance(user, Alone):
        tls = user.timelines
        if tls is None:
            policy = stored.state.settings.policy
            tls = user.timelines = timelines(policy, user.config, user.facts, user.tz)
        ci_tl, own_tl = tls
        return ci_tl.at(when), None if own_tl is None else own_tl.at(when), stored.local
    entry, pieces, row, j, mode, attempt = user
    compiled = entry.compiled
    access = compiled.decide_course_instance(row, when)
    if j is None:
        return access, None, pieces
    if mode is Mode.PUBLIC and attempt is None:
        return access, compiled.decide(row, j, when), pieces
    return access, entry.cell(row, j, mode, attempt).at(when), pieces


# -- 5. render --------------------------------------------------------------------------------


def render(stored: Stored, when: Instant, tz: ZoneInfo, decided: Decided) -> bytes:
    """``{"at", "course_instance", "assessment"}``: the JSON of ``coursegate decide``."""
    return render_at(stored, when, tz) + render_decided(decided, tz)


def render_at(stored: Stored, when: Instant, tz: ZoneInfo) -> bytes:
    """The start of an answer, up to its instant: ``{"at":"..."``."""
    return b'{"at":' + stored.pieces.at(when, tz)


def render_decided(decided: Decided, tz: ZoneInfo) -> bytes:
    """The rest of an answer after its instant: ``,"course_instance":{...},"assessment":{...}}``
    (no assessment when none was asked about)."""
    access, assessment, pieces = decided
    answer = b',"course_instance":' + pieces.decision(access, tz)
    if assessment is not None:
        answer += b',"assessment":' + pieces.decision(assessment, tz)
    return answer + b"}"


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def error_json(error: ServiceError) -> bytes:
    """``{"error": {"code", "message", "field"}}``: an answer that is an error."""
    return _json({"error": error.to_json()})


# -- the stages in order: one request, a batch -------------------------------------------------


def _own_mode(ctx: Ctx, q: Question, given: RequestMode | None) -> Question:
    """``q`` in the request's own mode: a request about oneself without a mode, while the
    request is in Exam mode."""
    if given is None or not given.exam or q.mode_given or q.uid != ctx.effective:
        return q
    return replace(q, mode=given.mode, own_mode=given)


PerInstance = Callable[[Ctx, CourseInstance, Sequence[tuple[int, Question]], list[Answer]], None]
"""Stages 3 to 5 for the requests of one course instance, into the answers."""


def answer_questions(
    ctx: Ctx,
    questions: Sequence[Question | ServiceError],
    request_mode: RequestMode | None = None,
    per_instance: PerInstance | None = None,
) -> list[Answer]:
    """Answer decision requests in order (errors are answers too: one bad request does not
    spoil the others). Requests are grouped by course instance: each is compiled once (or
    found compiled in the cache, :mod:`coursegate.services.access.decisions.cache`), who may see
    whom is asked once per course instance, and each answer is the JSON of ``coursegate
    decide``. ``per_instance`` answers the requests of one course instance (default: one by
    one; the batch endpoint's way: :mod:`coursegate.services.access.decisions.batch`)."""
    answer_instance = per_instance or _answer_course_instance
    out: list[Answer] = [b""] * len(questions)
    groups: dict[tuple[str, str | None], list[tuple[int, Question]]] = {}
    for k, q in enumerate(questions):
        if isinstance(q, ServiceError):
            out[k] = q
        else:
            own = _own_mode(ctx, q, request_mode)
            groups.setdefault((own.course, own.course_instance), []).append((k, own))
    for (course, instance), items in groups.items():
        try:
            ci = request_course_instance(ctx, course, instance)
            remember_name(ctx.session.get_bind(), course, instance, ci)
            answer_instance(ctx, ci, items, out)
        except ServiceError as error:
            for k, _ in items:
                out[k] = error
        except CourseError as error:
            problem = error.problems[0].message if error.problems else str(error)
            invalid = Invalid(
                f"course_instance: the stored configuration cannot be decided: {problem}",
                "course_instance",
            )
            for k, _ in items:
                out[k] = invalid
    return out


def _answer_course_instance(
    ctx: Ctx, ci: CourseInstance, items: Sequence[tuple[int, Question]], out: list[Answer]
) -> None:
    """Stages 3 to 5 for the requests of one course instance, into ``out``."""
    todo = permitted(ctx, ci, items, out)
    if not todo:
        return
    stored = Stored(ctx, ci, {q.uid for _, q in todo})
    for k, q in todo:
        try:
            when, tz, user = build_input(stored, q)
            decided = decide(stored, user, when)
            if q.own_mode is not None and decided[1] is not None:
                # a decision of this request alone: kept with the batch, not the cache entry
                decided = (decided[0], explained(decided[1], q.own_mode), stored.local)
            out[k] = render(stored, when, tz, decided)
        except ServiceError as error:
            out[k] = error


def batch_requests(raw: object) -> list[Any]:
    """The decision requests of a batch ``{"requests": [...]}`` (not read yet). More than
    :data:`MAX_BATCH` raise :class:`TooLarge`; another shape :class:`Invalid`."""
    if not isinstance(raw, dict) or not isinstance(raw.get("requests"), list):
        raise Invalid('the body must be {"requests": [...]} (a list of decision requests)', "$")
    extra = sorted(set(raw) - {"requests"})
    if extra:
        raise Invalid(f"{extra[0]}: not a field of a batch (only requests)", extra[0])
    requests: list[Any] = raw["requests"]
    if len(requests) > MAX_BATCH:
        raise TooLarge(
            f"requests: {len(requests):,} decision requests in one batch; at most"
            f" {MAX_BATCH:,} (split them into several batches)",
            "requests",
        )
    return requests


def read_questions(requests: Sequence[object], default_uid: str) -> list[Question | ServiceError]:
    """:func:`read_question` of each request, in order; a request that is not right is
    answered by its error."""
    questions: list[Question | ServiceError] = []
    for r in requests:
        try:
            questions.append(read_question(r, default_uid))
        except ServiceError as error:
            questions.append(error)
    return questions


def batch_json(parts: Sequence[bytes]) -> bytes:
    """``{"results": [...]}`` from the serialised answers, in order."""
    return b'{"results":[' + b",".join(parts) + b"]}"


def answer_batch(ctx: Ctx, raw: object, request_mode: RequestMode | None = None) -> bytes:
    """``{"requests": [...]}`` → ``{"results": [...]}``, serialised, each request answered one
    by one (see :func:`answer_questions`). The batch endpoint answers with
    :func:`coursegate.services.access.decisions.batch.answer_batch_grouped`, which gives the same
    bytes faster; this is its oracle (tests compare the two). More than :data:`MAX_BATCH`
    requests raise :class:`TooLarge`."""
    questions = read_questions(batch_requests(raw), ctx.effective)
    answers = answer_questions(ctx, questions, request_mode)
    return batch_json([a if isinstance(a, bytes) else error_json(a) for a in answers])


def answer_one(ctx: Ctx, raw: object, request_mode: RequestMode | None = None) -> bytes:
    """One decision request → its decision, serialised (errors are raised)."""
    (answer,) = answer_questions(ctx, [read_question(raw, ctx.effective)], request_mode)
    if isinstance(answer, ServiceError):
        raise answer
    return answer
