"""Files for the operations team: a sudoers include and authorized_keys lines.

* **sudoers** (``coursegate accounts export-sudoers``, installed as e.g.
  ``/etc/sudoers.d/coursegate-classes`` on the shared login host): for each course instance with
  class accounts, its instructors may act as its student accounts and as its TAs' accounts, its
  TAs as its student accounts only — never the reverse. Every name is double-quoted (user ids
  such as ``jones@msu.edu`` hold characters sudoers treats specially); alias names are derived
  from the course instance's id, so two courses never share one. Check the file with
  ``visudo -c -f FILE`` before installing it (the tests do).
* **authorized_keys** (``coursegate accounts export-authorized-keys``): the public SSH keys of a
  course instance's instructors and TAs, one line each with a comment naming the person and the
  course, to put on the machines of that course's students (e.g. root's ``authorized_keys`` on
  their experiment nodes) so staff can log in to grade or debug.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from coursegate.core.instants import format_instant
from coursegate.services.accounts import common, rules
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Refused
from coursegate.services.common.places import instance_label
from coursegate.store.models import AccountKey, ClassAccount, CourseInstance, User


@dataclass(frozen=True)
class CourseStaff:
    ci: CourseInstance
    label: str
    instructors: list[str]
    tas: list[str]
    student_accounts: list[str]
    ta_accounts: list[str]


def _courses(ctx: Ctx, only: CourseInstance | None) -> list[CourseStaff]:
    ids = sorted(
        {
            i
            for i in ctx.session.scalars(
                select(ClassAccount.course_instance_id).where(
                    ClassAccount.state.in_(("assigned", "wiping")),
                    ClassAccount.course_instance_id.is_not(None),
                )
            )
            if i is not None
        }
    )
    if only is not None:
        ids = [only.id]
    out: list[CourseStaff] = []
    for ci_id in ids:
        ci = ctx.session.get(CourseInstance, ci_id)
        assert ci is not None
        accounts = common.accounts_of(ctx, ci, states=("assigned", "wiping"))
        out.append(
            CourseStaff(
                ci,
                instance_label(ci),
                [u.uid for u in common.staff_of(ctx, ci, common.INSTRUCTOR_ROLES, ctx.at)],
                [u.uid for u in common.staff_of(ctx, ci, ("ta",), ctx.at)],
                [a.uid for a in accounts if a.row.role == rules.STUDENT],
                [a.uid for a in accounts if a.row.role == rules.TA],
            )
        )
    return out


def _require_operator(ctx: Ctx, what: str) -> None:
    if not ctx.is_system:
        raise Refused(f"{ctx.effective} may not {what}: it is the operator's export", "actor")


def _quote(name: str) -> str:
    """A user name for sudoers, double-quoted (backslash and quote escaped)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _names(names: list[str]) -> str:
    return ", ".join(_quote(n) for n in names)


def sudoers(ctx: Ctx) -> str:
    """The sudoers include for every course instance with class accounts (the operator's)."""
    _require_operator(ctx, "export the sudoers include")
    lines = [
        "# coursegate class accounts: instructors and TAs may act as their students.",
        f"# Generated {format_instant(ctx.at, None)}; do not edit (run "
        "`coursegate accounts export-sudoers` again).",
        "",
    ]
    for c in _courses(ctx, None):
        tag = f"CG_CI{c.ci.id}"
        lines.append(f"# {c.label}")
        if not c.student_accounts and not c.ta_accounts:
            lines.append("# (no class accounts)")
            lines.append("")
            continue
        teachers = c.instructors
        tas = sorted(set(c.tas) - set(teachers))
        students = c.student_accounts
        ta_targets = sorted(set(c.ta_accounts) | set(tas))
        if students:
            lines.append(f"Runas_Alias {tag}_STUDENTS = {_names(students)}")
        if ta_targets:
            lines.append(f"Runas_Alias {tag}_TA_ACCOUNTS = {_names(ta_targets)}")
        if teachers:
            lines.append(f"User_Alias {tag}_INSTRUCTORS = {_names(teachers)}")
        if tas:
            lines.append(f"User_Alias {tag}_TAS = {_names(tas)}")
        runas = [f"{tag}_STUDENTS" if students else "", f"{tag}_TA_ACCOUNTS" if ta_targets else ""]
        runas = [r for r in runas if r]
        if teachers and runas:
            lines.append(f"{tag}_INSTRUCTORS ALL = ({', '.join(runas)}) ALL")
        if tas and students:
            lines.append(f"{tag}_TAS ALL = ({tag}_STUDENTS) ALL")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def authorized_keys(ctx: Ctx, ci: CourseInstance | None = None) -> str:
    """The staff's public SSH keys, per course instance (one, or every one with class
    accounts), as authorized_keys lines (the operator's)."""
    _require_operator(ctx, "export the authorized_keys lines")
    courses = _courses(ctx, ci)
    staff = {uid for c in courses for uid in (*c.instructors, *c.tas)}
    keys: dict[str, list[AccountKey]] = defaultdict(list)
    for key, uid in ctx.session.execute(
        select(AccountKey, User.uid)
        .join(User, User.id == AccountKey.user_id)
        .where(
            User.uid.in_(sorted(staff)),
            AccountKey.kind == "ssh",
            AccountKey.revoked_at.is_(None),
        )
        .order_by(AccountKey.id)
    ):
        keys[uid].append(key)
    lines = [f"# coursegate: staff keys for students' machines, {format_instant(ctx.at, None)}"]
    for c in courses:
        lines.append(f"# {c.label}")
        for role, people in (("instructor", c.instructors), ("TA", c.tas)):
            for uid in people:
                for key in keys.get(uid, []):
                    kind, blob = key.public.split()[:2]
                    lines.append(f"{kind} {blob} {uid} ({role}, {c.label})")
                if not keys.get(uid):
                    lines.append(f"# {uid} ({role}) has no public key registered")
    return "\n".join(lines) + "\n"


__all__ = ["authorized_keys", "sudoers"]
