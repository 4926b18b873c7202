"""Who may act on a person's own account, asked of the roles core with the stored roles.

The rule itself is :mod:`coursegate.roles.persons` (oneself; a domain coordinator of the
person's domain or a superuser, over people whose every role is below theirs; never course
staff). This module only gathers the facts and turns a refusal into :class:`Refused`. It also
holds the one rule of the shell about view-as and accounts: **nothing is changed on anyone's
account while viewing as someone** — view-as is for seeing.
"""

from __future__ import annotations

from coursegate.roles import Authority, may_see_person, over_account
from coursegate.services.common.authz import index_for
from coursegate.services.common.context import Ctx
from coursegate.services.common.errors import Refused
from coursegate.store.models import User


def refuse_in_view_as(ctx: Ctx, what: str) -> None:
    """Nothing is changed while viewing as someone (the one wording of that rule, for the
    route policies and the services alike)."""
    if ctx.viewing_as:
        raise Refused(
            f"{ctx.actor} may not {what} while viewing as {ctx.acting_as}: view-as is for "
            "seeing what they see; stop viewing as first",
            "view_as",
        )


def require_over_account(ctx: Ctx, user: User, what: str) -> Authority:
    """Refuse unless the real user may ``what`` on ``user``'s own account (password, email,
    sign-in freeze, tokens, keys). Never while viewing as someone; the system may."""
    if ctx.is_system:
        return Authority(True, "the system (operator) acts", "system")
    refuse_in_view_as(ctx, what)
    index = index_for(ctx, [ctx.actor, user.uid])
    found = over_account(
        index, ctx.actor, user.uid, user.domain.name, at=ctx.at_datetime, what=what
    )
    if not found.ok:
        raise Refused(found.reason, "uid")
    return found


def require_see_person(ctx: Ctx, user: User) -> Authority:
    """Refuse unless the real user may see ``user``'s record. While viewing as someone, the
    real user's own rights decide (the viewed user is not oneself)."""
    if ctx.is_system:
        return Authority(True, "the system (operator) acts", "system")
    index = index_for(ctx, [ctx.actor, user.uid])
    found = may_see_person(index, ctx.actor, user.uid, user.domain.name, at=ctx.at_datetime)
    if not found.ok:
        raise Refused(found.reason, "uid")
    return found


__all__ = ["refuse_in_view_as", "require_over_account", "require_see_person"]
