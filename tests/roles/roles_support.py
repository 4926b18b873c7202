"""Shared data for the roles tests: the seed's table and the seed's example users.

The seed (``roles-storage-parameters-loncapa.txt``) shows user smith (Fig. 2.1.3) and user jones
(Fig. 2.1.4) at msu. Course areas drop the domain prefix of LON-CAPA's course ids, as
LON-CAPA's own course areas do (``msu_12679c3ed543a25msul1`` -> ``/msu/12679c3ed543a25msul1``).
"To December 30th" means through that day: the exclusive end is December 31st, 00:00.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from coursegate.roles import (
    Area,
    AuthKind,
    CustomRole,
    Level,
    RoleAssignment,
    RoleIndex,
    RoleTable,
    User,
)

MICHIGAN = ZoneInfo("America/Detroit")
MINNESOTA = ZoneInfo("America/Chicago")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant in East Lansing, where msu is."""
    return datetime(year, month, day, hour, minute, tzinfo=MICHIGAN)


# The seed's roles.tab, Fig. 2.1.8, verbatim.
SEED_ROLES_TAB = """\
su:s csu&U:sma:mau:cdc&U
dc:s sma
dc:d cli&UIK:cau&U:cdg&UIK:mau:ccc&U:cin&UIK:cta&UIK:cep&UIK:ccr&UIK:cst&UIK:cad&UIK
cc:s bre:sma:mcr
cc:c cin&IK:cta&IK:cep&IK:ccr&IK:cst&IK:are:cre:ere:vgr:gan:srm:opa
in:s sma
in:d bre
in:c vgr:mgr:gan:dcm:srm:pch:dch:pac:rin:las:opa
ta:d sma
ta:c bre&RL:vgr&CR:mgr&CR:srm:pch:dch:pac
ep:d sma
ep:c bre&R:mgr&R:dcm:las
cr:d sma
cr:c bre&R:vgr&SCR:mgr&SCR:gan&SCR:dcm&SC:srm&SC:pch:dch&S:pac:rin&S:las&SR:opa&SR
st:d sma&L
st:c bre&RXL:pch&L:pac&CL
ad:d sma
ad:c bre:gan:vgr:srm
li:s gan:sma
li:d mme
au:s gan:sma
au:d bre:are:cre:ere:cca&IK
ca:s gan:sma
ca:d bre:are:cre:ere
dg:d bre&R
"""

# What coursegate adds to the seed's rows (documented in docs/roles.md and data/roles.tab).
_STAFF = {"gex": "", "mus": "", "men": "", "mrs": "", "vst": "", "vhi": ""}
ADDITIONS: dict[tuple[str, Level], dict[str, str]] = {
    ("su", Level.SYSTEM): {"dro": ""},
    ("dc", Level.DOMAIN): {"dro": "", **_STAFF},
    ("cc", Level.COURSE): {"ain": "", **_STAFF},
    ("in", Level.COURSE): {"ain": "", **_STAFF},
    ("ta", Level.COURSE): {"ain": "", "gex": "", "mus": "", "vst": "", "vhi": ""},
    ("ep", Level.COURSE): {"mrs": "", "vst": ""},
}
"""The documented additions to the seed's table (see the comment at the top of roles.tab)."""


def seed_entries() -> list[tuple[str, Level, str, str]]:
    """Every (role, level, privilege, conditions) of the seed's table, in order."""
    entries: list[tuple[str, Level, str, str]] = []
    for line in SEED_ROLES_TAB.splitlines():
        key, _, body = line.partition(" ")
        role, _, level = key.partition(":")
        for item in body.split(":"):
            code, _, letters = item.partition("&")
            entries.append((role, Level(level), code, letters))
    return entries


# Course instances of the figures.
SMITH_C1 = Area.of_course("msu", "12679c3ed543a25msul1")
SMITH_C2 = Area.of_course("msu", "18879c3ed543a25msul2")
HELPROOM_COURSE = Area.of_course("msu", "82679c3gd543a35msul1")
JONES_SPRING = Area.of_course("msu", "02679c3gq543a35msul1")
JONES_UMN = Area.of_course("umn", "82679c3gd543a35umnl2")
MSU = Area.of_domain("msu")
UMN = Area.of_domain("umn")

FALL_2001 = (local(2001, 7, 1), local(2001, 12, 31))
SPRING_2001 = (local(2001, 1, 1), local(2001, 7, 1))
AUTHOR_SINCE = local(2000, 8, 15)
PROCTOR_WINDOW = (local(2001, 2, 21, 13), local(2001, 2, 21, 15))

HELPROOM = CustomRole("msu", "smith", "helproom", course="bre&R:vgr&SCR")


def smith_assignments() -> list[RoleAssignment]:
    """Fig. 2.1.3: sample instructor roles of smith at msu."""
    return [
        RoleAssignment("smith", "in", SMITH_C1),
        RoleAssignment("smith", "cc", SMITH_C1, *FALL_2001),
        RoleAssignment("smith", "in", SMITH_C2, *SPRING_2001),
        RoleAssignment("smith", "au", MSU, AUTHOR_SINCE),
        RoleAssignment("smith", "st", HELPROOM_COURSE, *FALL_2001),
    ]


def jones_assignments() -> list[RoleAssignment]:
    """Fig. 2.1.4: sample student roles of jones at msu."""
    return [
        RoleAssignment("jones", HELPROOM.role_name, HELPROOM_COURSE, *FALL_2001),
        RoleAssignment("jones", "st", JONES_SPRING, *SPRING_2001),
        RoleAssignment(
            "jones",
            "st",
            JONES_UMN,
            datetime(2001, 7, 1, tzinfo=MINNESOTA),
            datetime(2001, 12, 31, tzinfo=MINNESOTA),
        ),
        RoleAssignment("jones", "ep", HELPROOM_COURSE, *PROCTOR_WINDOW),
    ]


def seed_index(table: RoleTable | None = None) -> RoleIndex:
    """smith and jones as in the figures."""
    return RoleIndex(
        table,
        users=[
            User("smith", "msu", AuthKind.KERBEROS),
            User("jones", "msu", AuthKind.INTERNAL),
        ],
        assignments=smith_assignments() + jones_assignments(),
        custom_roles=[HELPROOM],
    )
