"""The tables. One cohesive thing: every table in one module, so that the migrations, the
schema-match test and a reader find the whole schema in one place.

Instants are stored as ``BIGINT`` microseconds since the epoch (UTC), exactly the core's
``Instant``: no time-zone conversion can creep in between the store and the decisions. Rows that
record rights or history are never deleted: role assignments end, assessments retire, the
history table is append-only. Rows that several people may edit carry a ``version`` for
optimistic locking (a concurrent edit fails loudly instead of being lost).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
    or_,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Domain(Base):
    """An institution (LON-CAPA's domain): every user belongs to one."""

    __tablename__ = "domains"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    """The one authoritative address."""
    auth: Mapped[str] = mapped_column(String(20), default="internal")
    """internal | unix | kerberos | external"""
    status: Mapped[str] = mapped_column(String(20), default="active")
    """active | frozen (web access stopped) | locked (the account is shut)"""
    class_account: Mapped[bool] = mapped_column(Boolean, default=False)
    class_course_instance_id: Mapped[int | None] = mapped_column(ForeignKey("course_instances.id"))
    created_at: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    domain: Mapped[Domain] = relationship()
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class EmailAlias(Base):
    """A forwarding address (``sc558aa@example.edu``) that follows the user's email."""

    __tablename__ = "email_aliases"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    alias: Mapped[str] = mapped_column(String(320), unique=True)


class Course(Base):
    __tablename__ = "courses"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    """The course's short name (infoCourse.json ``name``, or its directory name)."""
    title: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    institution: Mapped[str | None] = mapped_column(String(100))
    source_path: Mapped[str] = mapped_column(Text, default="")


class CourseInstance(Base):
    __tablename__ = "course_instances"
    __table_args__ = (UniqueConstraint("course_id", "short_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    short_name: Mapped[str] = mapped_column(String(200))
    long_name: Mapped[str] = mapped_column(String(300), default="")
    uuid: Mapped[str | None] = mapped_column(String(36))
    timezone: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The access-related keys of infoCourseInstance.json, as validated."""
    access_form: Mapped[str] = mapped_column(String(20), default="open")
    enrollment_code: Mapped[str | None] = mapped_column(String(64))
    start_at: Mapped[int | None] = mapped_column(BigInteger)
    end_at: Mapped[int | None] = mapped_column(BigInteger)
    retired_at: Mapped[int | None] = mapped_column(BigInteger)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    course: Mapped[Course] = relationship()


class Section(Base):
    """A group of students (a section or a student label); a student may be in several."""

    __tablename__ = "sections"
    __table_args__ = (UniqueConstraint("course_instance_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_instance_id: Mapped[int] = mapped_column(ForeignKey("course_instances.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    from_files: Mapped[bool] = mapped_column(Boolean, default=False)


class SectionMembership(Base):
    __tablename__ = "section_memberships"
    __table_args__ = (UniqueConstraint("section_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("course_instance_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_instance_id: Mapped[int] = mapped_column(ForeignKey("course_instances.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    """invited | joined | blocked | removed"""
    publishing_extension_end: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class RoleAssignmentRow(Base):
    """A role held in an area, with start and end. Never deleted: revoking sets ``end_at``."""

    __tablename__ = "role_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(200))
    """``cc``, ``st``, ... or ``cr/<domain>/<author>/<name>``"""
    area: Mapped[str] = mapped_column(String(300), index=True)
    start_at: Mapped[int | None] = mapped_column(BigInteger)
    end_at: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)

    @classmethod
    def in_force(cls, at: int) -> ColumnElement[bool]:
        """The SQL condition "this role is held at ``at``": started (or no start), not ended."""
        return and_(
            or_(cls.start_at.is_(None), cls.start_at <= at),
            or_(cls.end_at.is_(None), cls.end_at > at),
        )


class CustomRoleRow(Base):
    __tablename__ = "custom_roles"
    __table_args__ = (UniqueConstraint("domain", "author", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(100))
    author: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    system: Mapped[str] = mapped_column(Text, default="")
    domain_privs: Mapped[str] = mapped_column(Text, default="")
    course: Mapped[str] = mapped_column(Text, default="")


class Assessment(Base):
    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("course_instance_id", "aid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_instance_id: Mapped[int] = mapped_column(ForeignKey("course_instances.id"))
    aid: Mapped[str] = mapped_column(String(300))
    """The assessment id: its path under ``assessments/``."""
    uuid: Mapped[str | None] = mapped_column(String(36))
    title: Mapped[str] = mapped_column(String(300), default="")
    set_name: Mapped[str] = mapped_column(String(100), default="")
    number: Mapped[str] = mapped_column(String(50), default="")
    type: Mapped[str] = mapped_column(String(50), default="")
    form: Mapped[str] = mapped_column(String(20))
    """legacy | modern | rfc"""
    access: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The access keys of infoAssessment.json as validated (allowAccess / accessControl /
    accessControlOverrides), read back through the same validator for decisions."""
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    retired_at: Mapped[int | None] = mapped_column(BigInteger)


class AccessDate(Base):
    """The normalised dates of an assessment's access rules, one row per date (the RFC's
    tables, flattened): for calendars, listings and "what changed" without re-reading JSON."""

    __tablename__ = "access_dates"
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    element: Mapped[str] = mapped_column(String(200))
    """``defaults``, ``allowAccess[2]``, ``override: lab-a`` ..."""
    labels: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(30))
    """release | early | due | late | session-start | session-end | start | end | reveal"""
    at: Mapped[int] = mapped_column(BigInteger)
    credit: Mapped[float | None] = mapped_column(Float)


class StudentOverride(Base):
    """A student's own exception (database only: no personal data goes into course files)."""

    __tablename__ = "student_overrides"
    __table_args__ = (
        UniqueConstraint("course_instance_id", "user_id", "scope", "target"),
        # Exceptions are named by id in the API: a removed one's id is never given to another
        # (SQLite would otherwise reuse the largest id after a delete).
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    course_instance_id: Mapped[int] = mapped_column(ForeignKey("course_instances.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scope: Mapped[str] = mapped_column(String(20))
    """assessment | set | course_instance"""
    target: Mapped[str] = mapped_column(String(300), default="")
    """The assessment id, the set name, or '' for the course instance."""
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The exception: release, due, credit, time limit (minutes or percent), password."""
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ExamReservation(Base):
    __tablename__ = "exam_reservations"
    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    """The testing centre's id for the reservation (recording it twice changes nothing)."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    exam_uuid: Mapped[str] = mapped_column(String(36), index=True)
    access_start: Mapped[int] = mapped_column(BigInteger)
    access_end: Mapped[int] = mapped_column(BigInteger)
    cancelled_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)


class AssessmentInstance(Base):
    __tablename__ = "assessment_instances"
    __table_args__ = (UniqueConstraint("assessment_id", "user_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    date_limit: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[int] = mapped_column(BigInteger)
    closed_at: Mapped[int | None] = mapped_column(BigInteger)
    points: Mapped[float] = mapped_column(Float, default=0)
    max_points: Mapped[float] = mapped_column(Float, default=0)
    bonus_points: Mapped[float] = mapped_column(Float, default=0)
    score_percent: Mapped[float] = mapped_column(Float, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class HistoryEntry(Base):
    """Who did what, as whom, when and why: LON-CAPA's ``.hist`` files as one append-only table."""

    __tablename__ = "history"
    __table_args__ = (Index("ix_history_ci_at", "course_instance_id", "at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(200))
    """The real user who acted."""
    acting_as: Mapped[str] = mapped_column(String(200))
    """The effective user (differs from ``actor`` while impersonating)."""
    action: Mapped[str] = mapped_column(String(100), index=True)
    subject_kind: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(300))
    course_instance_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# -- signing in (the server) ------------------------------------------------------------------


class Credential(Base):
    """A user's password (an argon2id hash, never the password) and failed sign-ins in a row."""

    __tablename__ = "credentials"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Failed sign-ins since the last success, from anywhere (for the record: nothing acts on
    it; waits are per client address, in ``sign_in_throttle``)."""
    last_failed_at: Mapped[int | None] = mapped_column(BigInteger)
    changed_at: Mapped[int] = mapped_column(BigInteger)


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
    leaked database cannot be replayed. Revoking sets ``revoked_at`` (kept for the history)."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    acting_as_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """While viewing as a student: whom (privileges are re-checked on every request)."""
    acting_in: Mapped[str | None] = mapped_column(String(300))
    """The course-instance id (as text) the view-as is limited to."""
    csrf_token: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(20), default="password")
    """password | sso"""
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_seen_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    mode: Mapped[str | None] = mapped_column(String(10))
    """``Exam`` while an instructor previews in Exam mode (their own switch); None: the mode
    the request's network and reservations give."""


class ApiToken(Base):
    """A personal API token for scripts: shown once, stored as SHA-256, scoped, revocable."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(20))
    """The first characters of the token, to recognise it in a list."""
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """``read`` (GET only) and/or ``write``."""
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    last_used_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    mode: Mapped[str | None] = mapped_column(String(10))
    """``Exam`` while the token's instructor previews in Exam mode; None: as the network
    and reservations give."""


class ExamNetwork(Base):
    """A testing-centre network: requests from ``cidr`` (during the window, when it has one)
    are in Exam mode for the users of ``domain_id`` (None: of every domain). Removing one sets
    ``removed_at``; the row stays for the history."""

    __tablename__ = "exam_networks"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    cidr: Mapped[str] = mapped_column(String(64))
    """The network in canonical form (``192.0.2.0/24``, ``2001:db8:5::/48``)."""
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id"), index=True)
    starts_at: Mapped[int | None] = mapped_column(BigInteger)
    ends_at: Mapped[int | None] = mapped_column(BigInteger)
    """The window [starts_at, ends_at) in which it counts; None: open on that side."""
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    removed_at: Mapped[int | None] = mapped_column(BigInteger)
    removed_by: Mapped[str | None] = mapped_column(String(200))
    domain: Mapped[Domain | None] = relationship()


# -- class accounts (coursegate.services.accounts) -------------------------------------------------


class AccountStem(Base):
    """A course's class-account stem (``sc558``): its accounts are the stem plus ``aa`` ..
    ``zz``, generated in order. Stems are never deleted, so a stem is never reused."""

    __tablename__ = "account_stems"
    id: Mapped[int] = mapped_column(primary_key=True)
    stem: Mapped[str] = mapped_column(String(16), unique=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    generated: Mapped[int] = mapped_column(Integer, default=0)
    """How many accounts exist (the position of the next suffix)."""
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ClassAccount(Base):
    """What makes a user a recyclable class account: its stem and place, whether it is free
    (in the pool), assigned (to a student or TA of one course instance) or being wiped."""

    __tablename__ = "class_accounts"
    __table_args__ = (UniqueConstraint("stem_id", "position"),)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    stem_id: Mapped[int] = mapped_column(ForeignKey("account_stems.id"))
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="free")
    """free | assigned | wiping"""
    role: Mapped[str] = mapped_column(String(10), default="")
    """st | ta while assigned; '' when free"""
    course_instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_instances.id"), index=True
    )
    assigned_at: Mapped[int | None] = mapped_column(BigInteger)
    times_assigned: Mapped[int] = mapped_column(Integer, default=0)
    mail_to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    """Set when the person's one authoritative address is another user's (their personal
    account, or their class account of another course): mail follows that user's email."""
    incomplete_at: Mapped[int | None] = mapped_column(BigInteger)
    """An incomplete was granted: the schedule neither locks nor wipes the account."""
    lock_reason: Mapped[str | None] = mapped_column(String(20))
    """term | manual | wipe — why the account is locked (None: not locked by these tools)"""
    status_before_lock: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class AccountKey(Base):
    """A public SSH key or a client certificate of a user. Class accounts' are generated (the
    private halves go to the student by mail and are never stored); staff upload their public
    SSH keys for the authorized_keys export. Flushed keys keep their row with ``revoked_at``."""

    __tablename__ = "account_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    """ssh | cert"""
    public: Mapped[str] = mapped_column(Text)
    """The OpenSSH public key line, or the PEM certificate."""
    fingerprint: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str] = mapped_column(String(20), default="generated")
    """generated | uploaded"""
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class AccountWipe(Base):
    """A wipe in progress or done: the steps already done (each committed with its effect), so
    a wipe killed part-way is finished by the next run."""

    __tablename__ = "account_wipes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course_instance_id: Mapped[int | None] = mapped_column(ForeignKey("course_instances.id"))
    reason: Mapped[str] = mapped_column(String(20))
    """wipe | recycle | term-end"""
    requested_at: Mapped[int] = mapped_column(BigInteger)
    requested_by: Mapped[str] = mapped_column(String(200))
    steps_done: Mapped[list[Any]] = mapped_column(JSON, default=list)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class AccountTerm(Base):
    """The class-account schedule of a course instance: a moved end date, and which steps were
    done for which end date (moving the end date makes them due again)."""

    __tablename__ = "account_terms"
    course_instance_id: Mapped[int] = mapped_column(
        ForeignKey("course_instances.id"), primary_key=True
    )
    end_override: Mapped[int | None] = mapped_column(BigInteger)
    """The end date the instructor set; None: the course instance's own (publishing) end."""
    locked_for: Mapped[int | None] = mapped_column(BigInteger)
    reminded_for: Mapped[int | None] = mapped_column(BigInteger)
    wiped_for: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class AccountEvent(Base):
    """Accounts generated, assigned, re-assigned and wiped: the funders' metrics (append-only).
    ``course_instance_id`` is the term; None for accounts an administrator generated ahead."""

    __tablename__ = "account_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    """generated | assigned | reassigned | wiped"""
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    course_instance_id: Mapped[int | None] = mapped_column(ForeignKey("course_instances.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(200))


class AccountMail(Base):
    """A message to a student or an instructor, queued in the transaction that made it and
    delivered after that commits (SMTP, or the Maildir outbox). Once delivered the text is
    emptied here (the outbox keeps it; SMTP does not)."""

    __tablename__ = "account_mail"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    course_instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_instances.id"), index=True
    )
    account: Mapped[str] = mapped_column(String(200), default="")
    """The class account concerned ('' for notices about a whole class)."""
    kind: Mapped[str] = mapped_column(String(30))
    """credentials | lock-notice | reminder | wiped-notice"""
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[int | None] = mapped_column(BigInteger, index=True)
    outbox_key: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


# -- sign-in throttling (the server) ----------------------------------------------------------


class SignInThrottle(Base):
    """Failed sign-ins per client address and account as typed (normalised, whether or not
    such a user exists), and when the pair may try again; the row with ``account == ""``
    counts the address over every account within a window. The account itself is never
    changed by failures. Rows whose wait ended long ago are deleted
    (:mod:`coursegate.services.people.throttle`)."""

    __tablename__ = "sign_in_throttle"
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The client address (an IPv6 client by its /64 network)."""
    account: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Failures in a row (an address's row: within the window that began at
    ``first_failure_at``)."""
    first_failure_at: Mapped[int | None] = mapped_column(BigInteger)
    last_failure_at: Mapped[int | None] = mapped_column(BigInteger)
    next_allowed_at: Mapped[int] = mapped_column(BigInteger, index=True)
    """No attempt of the pair is checked before this instant."""


# -- what decisions depend on, counted (the server's caches) ----------------------------------


class DecisionVersion(Base):
    """A counter that every committed change to what a decision depends on raises, in the same
    transaction, by database triggers (migration 0007) — whatever code, process or tool wrote
    it. Server processes keep compiled course instances, tokens and users' facts between
    requests and read these counters (one indexed query) to know whether what they keep is
    still right (:mod:`coursegate.services.access.decisions.versions`).

    ``(course instance, 0)``: its configuration (the course instance, sections, assessments,
    access dates); ``(course instance, user)``: the user's enrollment, sections and exceptions
    there; ``(0, user)``: the user's account, reservations, roles and API tokens; ``(0, 0)``:
    the catalogue (domains, courses, course instances added or removed, testing-centre
    networks). A row is never deleted, and a missing row reads as 0."""

    __tablename__ = "decision_versions"
    course_instance_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


# -- LMS platforms (LTI 1.3: coursegate.services.lti) ------------------------------------------


class LtiPlatform(Base):
    """An LMS registered by an administrator: its issuer and the client id it gave coursegate,
    where its OIDC sign-in, token and key-set endpoints are, and what it may do here. Users it
    introduces are created in ``domain_id``."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_lti_platforms_issuer"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    auth_url: Mapped[str] = mapped_column(String(1000))
    token_url: Mapped[str] = mapped_column(String(1000))
    jwks_url: Mapped[str] = mapped_column(String(1000))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id"))
    match_email: Mapped[bool] = mapped_column(Boolean, default=False)
    """A first launch of someone unknown may be linked to the coursegate user with the same
    email address (only where the platform verifies addresses)."""
    allow_administrator: Mapped[bool] = mapped_column(Boolean, default=False)
    """The LMS's Administrator context role gives domain coordinator here."""
    allow_author: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The LMS's ContentDeveloper context role gives the Author role in the platform's domain
    (to people of that domain): the seed's Author edits every course of its domain."""
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(200))
    removed_at: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    domain: Mapped[Domain] = relationship()
    deployments: Mapped[list[LtiDeployment]] = relationship(
        back_populates="platform", order_by="LtiDeployment.id"
    )


class LtiDeployment(Base):
    """A deployment of coursegate in a platform (LTI's ``deployment_id``): launches from a
    deployment not listed here are refused."""

    __tablename__ = "lti_deployments"
    __table_args__ = (
        UniqueConstraint("platform_id", "deployment_id", name="uq_lti_deployments_platform_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(200))
    platform: Mapped[LtiPlatform] = relationship(back_populates="deployments")


class LtiToolKey(Base):
    """One of coursegate's own signing keys (RSA), published at the tool's JWKS URL. The newest
    key not retired signs; a retired key stays published until ``drop_after`` so that tokens it
    signed can still be checked, then it is no longer shown (the row stays)."""

    __tablename__ = "lti_tool_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[int] = mapped_column(BigInteger)
    retired_at: Mapped[int | None] = mapped_column(BigInteger)
    drop_after: Mapped[int | None] = mapped_column(BigInteger)


class LtiLogin(Base):
    """An OIDC login in progress: the state (stored as SHA-256) and nonce handed to one browser,
    bound to it by a cookie (its SHA-256 in ``browser_hash``), single-use and short-lived."""

    __tablename__ = "lti_logins"
    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"))
    target_link_uri: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)


class LtiIdentity(Base):
    """Who a platform's ``sub`` is here: the link between an LMS person and a coursegate user,
    made at their first launch and kept."""

    __tablename__ = "lti_identities"
    __table_args__ = (UniqueConstraint("platform_id", "sub", name="uq_lti_identities_platform_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"))
    sub: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    linked_by: Mapped[str] = mapped_column(String(20))
    """``created`` (a new user), ``email`` (matched by address) or ``administrator``."""
    test_user: Mapped[bool] = mapped_column(Boolean, default=False)
    """The LMS's test student ("view as student"): never counted in rosters or metrics."""
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_launch_at: Mapped[int] = mapped_column(BigInteger)
    user: Mapped[User] = relationship()


class LtiContext(Base):
    """An LMS course (LTI's context) and the coursegate course instance it is linked to. The
    link is made once, by an instructor who launched from that LMS course and teaches the
    course instance here; until then ``offered_to_user_id`` is the last such instructor."""

    __tablename__ = "lti_contexts"
    __table_args__ = (
        UniqueConstraint("platform_id", "context_id", name="uq_lti_contexts_platform_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id"))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(300), default="")
    label: Mapped[str] = mapped_column(String(100), default="")
    course_instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("course_instances.id"), index=True
    )
    linked_by: Mapped[str | None] = mapped_column(String(200))
    linked_at: Mapped[int | None] = mapped_column(BigInteger)
    offered_to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    offered_at: Mapped[int | None] = mapped_column(BigInteger)
    memberships_url: Mapped[str | None] = mapped_column(String(1000))
    """The LMS's roster service for this course (NRPS), as the last launch gave it."""
    roster_synced_at: Mapped[int | None] = mapped_column(BigInteger)
    lineitems_url: Mapped[str | None] = mapped_column(String(1000))
    first_day: Mapped[str | None] = mapped_column(String(10))
    last_day: Mapped[str | None] = mapped_column(String(10))
    """The LMS course's dates (``YYYY-MM-DD``), where its launches send them (the custom
    parameters ``course_start`` and ``course_end``): a course instance made from a template at
    the first launch takes them."""
    """The LMS's gradebook columns for this course (AGS), as the last launch gave it."""
    created_at: Mapped[int] = mapped_column(BigInteger)
    platform: Mapped[LtiPlatform] = relationship()
    course_instance: Mapped[CourseInstance | None] = relationship()


class LtiRosterRun(Base):
    """A roster sync (or dry run) of a linked LMS course, followed by its page: started by
    ``started_by``, ``running`` while it reads the LMS's membership list (``pages`` and
    ``members`` read so far, ``updated_at`` at each page) and while it applies the plan
    (``step``), then ``done`` — the summary, and the plan as JSON — or ``failed`` with the
    sentence that says why. A run not updated for a while is stale (its server stopped)."""

    __tablename__ = "lti_roster_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_contexts.id"), index=True)
    started_by: Mapped[str] = mapped_column(String(200))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(20))
    """``running``, ``done`` or ``failed``."""
    step: Mapped[str] = mapped_column(String(20), default="reading")
    """While running: ``reading`` the LMS's list, or ``applying`` the plan."""
    pages: Mapped[int] = mapped_column(Integer, default=0)
    members: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)
    summary: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    context: Mapped[LtiContext] = relationship()


class LtiLineItem(Base):
    """A column of the LMS's gradebook for one assessment of a linked course (AGS line item)."""

    __tablename__ = "lti_line_items"
    __table_args__ = (
        UniqueConstraint("context_id", "assessment_id", name="uq_lti_line_items_context_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_contexts.id"))
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    url: Mapped[str] = mapped_column(String(1000))
    label: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[int] = mapped_column(BigInteger)


class LtiScore(Base):
    """A score to send to, or sent to, the LMS's gradebook: the outbox. Per (line item, user)
    only the newest unsent score is sent; an older one is ``superseded`` (so the LMS never gets
    two out of order). ``pending`` → ``sent``, or ``failed`` after the last try."""

    __tablename__ = "lti_scores"
    id: Mapped[int] = mapped_column(primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("lti_line_items.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    score_given: Mapped[float] = mapped_column(Float)
    score_maximum: Mapped[float] = mapped_column(Float)
    activity_progress: Mapped[str] = mapped_column(String(20))
    grading_progress: Mapped[str] = mapped_column(String(20))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), index=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[int | None] = mapped_column(BigInteger)


class LtiDeepLink(Base):
    """A deep-linking request from an LMS (an instructor choosing coursegate content to add):
    where to send the choice back, and the LMS's opaque ``data`` to return with it. Answered
    once, by the staff member whose launch it was."""

    __tablename__ = "lti_deep_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_contexts.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    deployment_id: Mapped[str] = mapped_column(String(200))
    return_url: Mapped[str] = mapped_column(String(1000))
    data: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    answered_at: Mapped[int | None] = mapped_column(BigInteger)
