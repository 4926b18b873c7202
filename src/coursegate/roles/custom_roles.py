"""Custom roles: course roles defined by their author within the template rows of the table.

A holder of ``mcr`` (Create a Course Custom Role; course coordinators hold it system wide)
defines a role named ``cr/<domain>/<author>/<name>``. Each privilege it lists must appear in the
template row of its level (``cr:s``, ``cr:d``, ``cr:c``) and may carry only condition letters that
row lists for it; the template's letters always apply, written or not. A refusal names the level
and the privilege (``c:mgr``), as LON-CAPA does.

Editing a definition takes effect for every holder on their next check.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from coursegate.roles.allowed import RoleIndex
from coursegate.roles.areas import Area
from coursegate.roles.conditions import CheckContext, evaluate
from coursegate.roles.impersonation import Actor, allowed_as
from coursegate.roles.model import CustomRole, require_aware
from coursegate.roles.privileges import Level, Privilege
from coursegate.roles.table import RoleTable, TemplateViolation

__all__ = ["DefineResult", "check_custom_role", "define_custom_role"]


@dataclass(frozen=True, slots=True)
class DefineResult:
    """The outcome of defining a custom role.

    ``refused`` is ``"<level>:<privilege>"`` for the first privilege outside the template,
    ``"mcr"`` when the actor may not define custom roles at all, or ``"author"`` when the actor
    is not the role's author (or the name's domain is not the author's); ``role`` is the
    definition as stored (template letters applied).
    """

    ok: bool
    reason: str
    actor: Actor
    refused: str | None = None
    role: CustomRole | None = None


def check_custom_role(table: RoleTable, role: CustomRole) -> list[TemplateViolation]:
    """Every privilege or condition of ``role`` outside the template rows of ``table``."""
    return table.template_violations({level: role.privileges_at(level) for level in Level})


def define_custom_role(
    index: RoleIndex,
    actor: str | Actor,
    role: CustomRole,
    *,
    at: datetime,
    context: CheckContext | None = None,
) -> DefineResult:
    """Define (or redefine) ``role`` on behalf of ``actor``, who must be its author and hold
    ``mcr``. Every refusal says why."""
    require_aware(at, "at")
    who = Actor.of(actor)
    table = index.table
    name = role.role_name
    author = index.user(who.effective)
    if author is None:
        return DefineResult(
            False, f"cannot define {name}: there is no user {who.effective!r}", who, "mcr"
        )
    if role.author != who.effective or who.impersonating:
        return DefineResult(
            False,
            f"{who.describe()} may not define {name}: a custom role is defined by its author "
            f"({role.author}) only",
            who,
            "author",
        )
    if role.domain != author.domain:
        return DefineResult(
            False,
            f"{who.describe()} may not define {name}: a custom role is named after its "
            f"author's domain, so it would be cr/{author.domain}/{role.author}/{role.name}",
            who,
            "author",
        )
    home = Area.of_domain(author.domain)
    permission = allowed_as(index, who, Privilege.CREATE_CUSTOM_ROLE, home, at=at)
    decision = evaluate(
        permission, replace(context or CheckContext(), target_auth=author.auth), at=at, table=table
    )
    if not decision.allowed:
        why = "; ".join(decision.explanation)
        return DefineResult(
            False,
            f"{who.describe()} may not define {name}: it needs "
            f"{table.describe(Privilege.CREATE_CUSTOM_ROLE)} ({why})",
            who,
            "mcr",
        )
    violations = check_custom_role(table, role)
    if violations:
        return DefineResult(
            False,
            f"{who.describe()} may not define {name}: "
            + "; ".join(f"{v.code}: {v.message}" for v in violations),
            who,
            violations[0].code,
        )
    existed = index.custom_role(name) is not None
    stored = index.define_custom_role(role)
    verb = "redefined" if existed else "defined"
    return DefineResult(
        True,
        f"{verb} {name}; its holders get the new privileges on their next check",
        who,
        None,
        stored,
    )
