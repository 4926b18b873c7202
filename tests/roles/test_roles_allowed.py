"""allowed(): the seed's smith and jones, chosen roles, sections, expiry and conditions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from roles_support import (
    AUTHOR_SINCE,
    FALL_2001,
    HELPROOM,
    HELPROOM_COURSE,
    JONES_SPRING,
    JONES_UMN,
    MSU,
    PROCTOR_WINDOW,
    SMITH_C1,
    SMITH_C2,
    UMN,
    local,
    seed_index,
)

from coursegate.roles import (
    Area,
    AuthKind,
    CheckContext,
    CoursePreferences,
    CustomRole,
    Locks,
    Permission,
    Privilege,
    ResourceVerdict,
    RoleAssignment,
    RoleDataError,
    RoleIndex,
    SelectedRole,
    SessionState,
    User,
    allowed,
    check,
    evaluate,
)

MICROSECOND = timedelta(microseconds=1)
VGR, MGR, BRE, PCH, CST = "vgr", "mgr", "bre", "pch", "cst"


def value(
    index: RoleIndex, uid: str, privilege: str, area: Area, at: datetime, **kw: object
) -> str:
    return index.allowed(uid, privilege, area, at=at, **kw).value  # type: ignore[arg-type]


# -- smith, Fig. 2.1.3 ----------------------------------------------------------------------------


class TestSmith:
    index = seed_index()

    def test_instructor_without_dates_always_views_grades(self) -> None:
        for at in (local(1999, 1, 1), local(2001, 9, 1), local(2030, 1, 1)):
            assert value(self.index, "smith", VGR, SMITH_C1, at) == "F"
            assert value(self.index, "smith", Privilege.MODIFY_GRADES, SMITH_C1, at) == "F"

    def test_coordinator_only_inside_its_window(self) -> None:
        start, end = FALL_2001
        assert value(self.index, "smith", CST, SMITH_C1, start - MICROSECOND) == ""
        assert value(self.index, "smith", CST, SMITH_C1, start) == "IK"
        assert value(self.index, "smith", CST, SMITH_C1, local(2001, 12, 30, 23, 59)) == "IK"
        assert value(self.index, "smith", CST, SMITH_C1, end) == ""

    def test_outside_the_window_the_explanation_names_the_window(self) -> None:
        permission = self.index.allowed("smith", CST, SMITH_C1, at=local(2001, 3, 1))
        assert permission.value == ""
        text = "\n".join(permission.explanation)
        assert "Course Coordinator (cc) at /msu/12679c3ed543a25msul1 would give it" in text
        assert "from 2001-07-01T00:00:00-04:00 until 2001-12-31T00:00:00-05:00" in text

    def test_spring_instructor_expires(self) -> None:
        assert value(self.index, "smith", MGR, SMITH_C2, local(2001, 3, 1)) == "F"
        assert value(self.index, "smith", MGR, SMITH_C2, local(2001, 7, 1)) == ""
        assert value(self.index, "smith", MGR, SMITH_C2, local(2000, 12, 31)) == ""

    def test_author_from_august_2000_in_the_domain(self) -> None:
        assert value(self.index, "smith", "ere", MSU, AUTHOR_SINCE - MICROSECOND) == ""
        assert value(self.index, "smith", "ere", MSU, AUTHOR_SINCE) == "F"
        assert value(self.index, "smith", "cca", MSU, local(2005, 1, 1)) == "IK"
        assert value(self.index, "smith", "ere", UMN, local(2005, 1, 1)) == ""

    def test_cumulative_merges_all_roles(self) -> None:
        fall = local(2001, 9, 1)
        # Student in the helproom course (st:c bre&RXL), coordinator elsewhere (cc:s bre),
        # instructor and author in msu (in:d bre, au:d bre): F wins.
        permission = self.index.allowed("smith", BRE, HELPROOM_COURSE, at=fall)
        assert permission.value == "F"
        assert [(s.role, s.level.value) for s in permission.sources] == [
            ("st", "c"),
            ("in", "d"),
            ("au", "d"),
            ("cc", "s"),
        ]
        assert any("F wins" in line for line in permission.explanation)
        assert value(self.index, "smith", PCH, HELPROOM_COURSE, fall) == "L"

    def test_chosen_role_restricts(self) -> None:
        fall = local(2001, 9, 1)
        student = SelectedRole("st", HELPROOM_COURSE)
        assert value(self.index, "smith", BRE, HELPROOM_COURSE, fall, selected=student) == "RXL"
        assert value(self.index, "smith", "sma", MSU, fall, selected=student) == "L"
        assert value(self.index, "smith", "mcr", Area.system(), fall, selected=student) == ""
        instructor = SelectedRole("in", SMITH_C1)
        assert value(self.index, "smith", CST, SMITH_C1, fall) == "IK"
        assert value(self.index, "smith", CST, SMITH_C1, fall, selected=instructor) == ""
        coordinator = SelectedRole("cc", SMITH_C1)
        assert value(self.index, "smith", "mcr", Area.system(), fall, selected=coordinator) == "F"

    def test_a_chosen_role_not_held_gives_nothing_and_says_so(self) -> None:
        chosen = SelectedRole("ta", SMITH_C1)
        permission = self.index.allowed(
            "smith", VGR, SMITH_C1, at=local(2001, 9, 1), selected=chosen
        )
        assert permission.value == ""
        assert "smith does not hold the chosen role ta at /msu/12679c3ed543a25msul1" in (
            permission.explanation
        )

    def test_a_chosen_role_out_of_its_window_gives_nothing(self) -> None:
        chosen = SelectedRole("cc", SMITH_C1)
        spring = local(2001, 3, 1)
        assert value(self.index, "smith", "mcr", Area.system(), spring, selected=chosen) == ""


# -- jones, Fig. 2.1.4 ----------------------------------------------------------------------------


class TestJones:
    index = seed_index()

    def test_custom_role_in_the_fall(self) -> None:
        fall = local(2001, 9, 1)
        permission = self.index.allowed("jones", VGR, HELPROOM_COURSE, at=fall)
        assert permission.value == "SCR"
        assert permission.sources[0].role == "cr/msu/smith/helproom"
        assert value(self.index, "jones", BRE, HELPROOM_COURSE, fall) == "R"
        assert value(self.index, "jones", MGR, HELPROOM_COURSE, fall) == ""
        assert value(self.index, "jones", VGR, HELPROOM_COURSE, local(2001, 6, 30)) == ""

    def test_spring_student_until_the_exact_end(self) -> None:
        end = local(2001, 7, 1)
        assert value(self.index, "jones", PCH, JONES_SPRING, local(2001, 3, 1)) == "L"
        assert value(self.index, "jones", PCH, JONES_SPRING, end - MICROSECOND) == "L"
        assert value(self.index, "jones", PCH, JONES_SPRING, end) == ""
        assert value(self.index, "jones", "pac", JONES_SPRING, local(2001, 3, 1)) == "CL"

    def test_student_in_another_domain(self) -> None:
        fall = local(2001, 9, 1)
        assert value(self.index, "jones", "sma", UMN, fall) == "L"
        assert value(self.index, "jones", BRE, JONES_UMN, fall) == "RXL"
        assert value(self.index, "jones", BRE, JONES_UMN, local(2001, 3, 1)) == ""
        # The umn role does not reach msu's domain.
        assert value(self.index, "jones", "sma", MSU, fall) == ""
        # In the spring the msu student role gives sma&L in msu.
        assert value(self.index, "jones", "sma", MSU, local(2001, 3, 1)) == "L"

    def test_exam_proctor_for_two_hours(self) -> None:
        start, end = PROCTOR_WINDOW
        assert value(self.index, "jones", "las", HELPROOM_COURSE, start - MICROSECOND) == ""
        assert value(self.index, "jones", "las", HELPROOM_COURSE, start) == "F"
        assert value(self.index, "jones", "las", HELPROOM_COURSE, end - MICROSECOND) == "F"
        assert value(self.index, "jones", "las", HELPROOM_COURSE, end) == ""
        # The same instant written in UTC is the same instant.
        assert value(self.index, "jones", "las", HELPROOM_COURSE, end.astimezone(UTC)) == ""
        assert value(self.index, "jones", MGR, HELPROOM_COURSE, start) == "R"


# -- sections -----------------------------------------------------------------------------------


def _section_index() -> RoleIndex:
    course = Area.parse("/msu/c1")
    return RoleIndex(
        users=[User("tina", "msu"), User("ian", "msu"), User("sam", "msu")],
        assignments=[
            RoleAssignment("tina", "ta", Area.parse("/msu/c1/s1")),
            RoleAssignment("ian", "in", course),
            RoleAssignment("sam", "st", Area.parse("/msu/c1/s1")),
            RoleAssignment("sam", "ta", Area.parse("/msu/c1/s2")),
        ],
    )


AT = datetime(2001, 9, 1, tzinfo=UTC)


def test_a_section_role_applies_to_its_section_only() -> None:
    index = _section_index()
    assert value(index, "tina", VGR, Area.parse("/msu/c1/s1"), AT) == "CR"
    assert value(index, "tina", VGR, Area.parse("/msu/c1/s2"), AT) == ""
    assert value(index, "tina", VGR, Area.parse("/msu/c1"), AT) == ""
    # Its domain privileges still count in the domain.
    assert value(index, "tina", "sma", Area.parse("/msu/"), AT) == "F"


def test_asking_at_the_course_for_a_section_role_points_to_the_section() -> None:
    permission = _section_index().allowed("tina", VGR, Area.parse("/msu/c1"), at=AT)
    assert permission.value == ""
    assert any("ask at /msu/c1/s1" in line for line in permission.explanation)


def test_a_course_role_applies_to_every_section() -> None:
    index = _section_index()
    for section in ("s1", "s2", "s99"):
        assert value(index, "ian", MGR, Area.parse(f"/msu/c1/{section}"), AT) == "F"


def test_one_question_at_the_section_merges_section_and_course_roles() -> None:
    index = RoleIndex(
        users=[User("u", "msu")],
        assignments=[
            RoleAssignment("u", "st", Area.parse("/msu/c1")),
            RoleAssignment("u", "ta", Area.parse("/msu/c1/s1")),
        ],
    )
    permission = index.allowed("u", BRE, Area.parse("/msu/c1/s1"), at=AT)
    assert permission.value == "RLX"
    assert [s.held_at.path for s in permission.sources] == ["/msu/c1/s1", "/msu/c1"]
    assert value(index, "u", BRE, Area.parse("/msu/c1/s2"), AT) == "RXL"


def test_roles_in_different_sections_do_not_mix() -> None:
    index = _section_index()
    assert value(index, "sam", VGR, Area.parse("/msu/c1/s2"), AT) == "CR"
    assert value(index, "sam", VGR, Area.parse("/msu/c1/s1"), AT) == ""
    assert value(index, "sam", PCH, Area.parse("/msu/c1/s1"), AT) == "L"
    assert value(index, "sam", PCH, Area.parse("/msu/c1/s2"), AT) == "F"


# -- changes take effect on the next check --------------------------------------------------------


def test_grant_revocation_and_expiry_take_effect_on_the_next_check() -> None:
    course = Area.parse("/msu/c1")
    index = RoleIndex(users=[User("u", "msu")])
    assert value(index, "u", VGR, course, AT) == ""
    grant = RoleAssignment("u", "ta", course, AT - timedelta(days=1), AT + timedelta(hours=1))
    index.add_assignment(grant)
    assert value(index, "u", VGR, course, AT) == "CR"
    # Expiry: the cached lookup knows when it stops being valid.
    assert value(index, "u", VGR, course, AT + timedelta(minutes=59)) == "CR"
    assert value(index, "u", VGR, course, AT + timedelta(hours=1)) == ""
    # ...and going back in time recompiles too.
    assert value(index, "u", VGR, course, AT) == "CR"
    index.replace_assignment(grant, RoleAssignment("u", "ta", course, grant.start, AT))
    assert value(index, "u", VGR, course, AT) == ""
    assert value(index, "u", VGR, course, AT - MICROSECOND) == "CR"


def test_custom_role_edits_take_effect_on_the_next_check() -> None:
    index = seed_index()
    fall = local(2001, 9, 1)
    assert value(index, "jones", "pch", HELPROOM_COURSE, fall) == ""
    index.define_custom_role(CustomRole("msu", "smith", "helproom", course="bre&R:vgr&SCR:pch"))
    assert value(index, "jones", "pch", HELPROOM_COURSE, fall) == "F"
    index.define_custom_role(HELPROOM)
    assert value(index, "jones", "pch", HELPROOM_COURSE, fall) == ""


def test_chosen_role_lookups_are_dropped_on_change_too() -> None:
    course = Area.parse("/msu/c1")
    index = RoleIndex(users=[User("u", "msu")], assignments=[RoleAssignment("u", "ta", course)])
    chosen = SelectedRole("ta", course)
    assert value(index, "u", VGR, course, AT, selected=chosen) == "CR"
    removed = index.remove_assignments("u", "ta", course)
    assert len(removed) == 1
    assert value(index, "u", VGR, course, AT, selected=chosen) == ""


# -- inputs ---------------------------------------------------------------------------------------


def test_naive_times_are_refused() -> None:
    index = seed_index()
    with pytest.raises(ValueError, match="timezone-aware"):
        index.allowed("smith", VGR, SMITH_C1, at=datetime(2001, 9, 1))
    index.allowed("smith", VGR, SMITH_C1, at=AT)  # compiled now; the naive check still fails
    with pytest.raises(ValueError, match="timezone-aware"):
        index.allowed("smith", VGR, SMITH_C1, at=datetime(2001, 9, 1))


def test_unknown_user_and_privilege_are_explained() -> None:
    index = seed_index()
    assert index.allowed("nobody", VGR, SMITH_C1, at=AT).explanation == (
        "there is no user 'nobody'",
    )
    permission = index.allowed("smith", "zzz", SMITH_C1, at=AT)
    assert permission.value == ""
    assert "'zzz' is not a privilege of the role table" in permission.explanation


def test_module_function_is_the_method() -> None:
    index = seed_index()
    at = local(2001, 9, 1)
    function = allowed(index, "smith", VGR, SMITH_C1, at=at)
    method = index.allowed("smith", VGR, SMITH_C1, at=at)
    assert function == method
    assert function.explanation == method.explanation


def test_a_question_asked_again_is_remembered() -> None:
    index = seed_index()
    at = local(2001, 9, 1)
    first = index.allowed("smith", VGR, SMITH_C1, at=at)  # asked once: answered, not kept
    second = index.allowed("smith", VGR, SMITH_C1, at=at)  # asked again: kept from now on
    assert first == second
    assert index.allowed("smith", VGR, SMITH_C1, at=at + timedelta(hours=1)) is second
    assert index.allowed("smith", VGR, SMITH_C1, at=at) is second


@pytest.mark.parametrize(
    ("assignment", "path", "message"),
    [
        (
            RoleAssignment("ghost", "st", Area.parse("/msu/c1")),
            "$.assignments[0].uid",
            "no user 'ghost'",
        ),
        (
            RoleAssignment("u", "xx", Area.parse("/msu/c1")),
            "$.assignments[0].role",
            "'xx' is not a role",
        ),
        (
            RoleAssignment("u", "cr", Area.parse("/msu/c1")),
            "$.assignments[0].role",
            "custom-role template",
        ),
        (
            RoleAssignment("u", "cr/msu/a/b", Area.parse("/msu/c1")),
            "$.assignments[0].role",
            "not defined",
        ),
        (
            RoleAssignment("u", "st", Area.parse("/msu/")),
            "$.assignments[0].area",
            "held in a course or section",
        ),
        (
            RoleAssignment("u", "cc", Area.parse("/msu/c1/s1")),
            "$.assignments[0].area",
            "held in a course, not",
        ),
        (
            RoleAssignment("u", "dc", Area.parse("/msu/c1")),
            "$.assignments[0].area",
            "held in a domain",
        ),
    ],
)
def test_inconsistent_records_are_refused_with_their_path(
    assignment: RoleAssignment, path: str, message: str
) -> None:
    with pytest.raises(RoleDataError) as caught:
        RoleIndex(users=[User("u", "msu")], assignments=[assignment])
    (problem,) = caught.value.problems
    assert problem.path == path
    assert message in problem.message


def test_records_validate_themselves() -> None:
    assert User("jones@msu.edu", "msu").uid == "jones@msu.edu"  # an institutional user id
    with pytest.raises(ValueError, match="not a valid user id"):
        User("jones smith", "msu")
    with pytest.raises(ValueError, match="not a valid user id"):
        User("jones@", "msu")
    with pytest.raises(ValueError, match="not an authentication kind"):
        User("jones", "msu", "ldap")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"ends .* before it starts"):
        RoleAssignment("u", "st", Area.parse("/msu/c1"), AT, AT - MICROSECOND)
    with pytest.raises(ValueError, match="timezone-aware"):
        RoleAssignment("u", "st", Area.parse("/msu/c1"), datetime(2001, 1, 1))
    with pytest.raises(ValueError, match="cr/<domain>/<author>/<name>"):
        RoleAssignment("u", "cr/msu/smith", Area.parse("/msu/c1"))
    with pytest.raises(ValueError, match="only class accounts belong to a class"):
        User("u", "msu", class_course=Area.parse("/msu/c1"))


# -- evaluating conditions ------------------------------------------------------------------------


def _verdict(allowed: bool, reason: str) -> object:
    def rule(uid: str, privilege: str, area: Area, at: datetime) -> ResourceVerdict:
        return ResourceVerdict(allowed, reason)

    return rule


EVERYTHING = CheckContext(
    target_auth=AuthKind.INTERNAL,
    course_preferences=CoursePreferences(),
    locks=Locks(),
    resource=_verdict(True, "the homework is open"),  # type: ignore[arg-type]
    session=SessionState(True),
)


def _ta_index() -> RoleIndex:
    return RoleIndex(
        users=[User("tina", "msu"), User("sam", "msu")],
        assignments=[
            RoleAssignment("tina", "ta", Area.parse("/msu/c1")),
            RoleAssignment("sam", "st", Area.parse("/msu/c1")),
        ],
    )


def test_full_and_empty_need_no_context() -> None:
    index = _ta_index()
    assert check(index, "tina", "srm", Area.parse("/msu/c1"), at=AT, context=CheckContext()).allowed
    assert not check(index, "sam", "srm", Area.parse("/msu/c1"), at=AT, context=EVERYTHING).allowed


def test_each_condition_letter() -> None:
    index = _ta_index()
    course = Area.parse("/msu/c1")
    vgr = index.allowed("tina", VGR, course, at=AT)  # CR
    assert evaluate(vgr, EVERYTHING, at=AT).allowed
    denied_role = CheckContext(
        course_preferences=CoursePreferences(denied_to_roles={"vgr": frozenset({"ta"})}),
        resource=EVERYTHING.resource,
    )
    decision = evaluate(vgr, denied_role, at=AT)
    assert not decision.allowed
    assert any("deny vgr to Teaching Assistant (ta)" in r for r in decision.reasons)
    denied_user = CheckContext(
        course_preferences=CoursePreferences(denied_to_users={"vgr": frozenset({"tina"})}),
        resource=EVERYTHING.resource,
    )
    assert not evaluate(vgr, denied_user, at=AT).allowed
    closed = CheckContext(
        course_preferences=CoursePreferences(),
        resource=_verdict(False, "the exam is closed"),  # type: ignore[arg-type]
    )
    decision = evaluate(vgr, closed, at=AT)
    assert not decision.allowed
    assert any("the resource denies it: the exam is closed" in r for r in decision.reasons)

    bre = index.allowed("sam", BRE, course, at=AT)  # RXL
    assert bre.value == "RXL"
    assert evaluate(bre, EVERYTHING, at=AT).allowed
    locked = CheckContext(
        resource=EVERYTHING.resource,
        locks=Locks(privileges=frozenset({"bre"}), reason="exam week"),
        session=SessionState(True),
    )
    decision = evaluate(bre, locked, at=AT)
    assert not decision.allowed
    assert any("bre is locked here: exam week" in r for r in decision.reasons)
    resource_locked = CheckContext(
        resource=EVERYTHING.resource, locks=Locks(resource_locked=True), session=SessionState(True)
    )
    assert not evaluate(bre, resource_locked, at=AT).allowed
    unmet = CheckContext(
        resource=EVERYTHING.resource, locks=Locks(), session=SessionState(False, "prerequisite")
    )
    decision = evaluate(bre, unmet, at=AT)
    assert not decision.allowed
    assert any("does not allow it: prerequisite" in r for r in decision.reasons)


@pytest.mark.parametrize("missing", ["course_preferences", "resource"])
def test_missing_context_denies(missing: str) -> None:
    index = _ta_index()
    vgr = index.allowed("tina", VGR, Area.parse("/msu/c1"), at=AT)
    fields = {"course_preferences": CoursePreferences(), "resource": EVERYTHING.resource}
    del fields[missing]
    decision = evaluate(vgr, CheckContext(**fields), at=AT)  # type: ignore[arg-type]
    assert not decision.allowed
    assert any(
        "not supplied" in reason or "no resource rule" in reason for reason in decision.reasons
    )


def test_grant_privileges_check_the_target_authentication() -> None:
    index = seed_index()
    cst = index.allowed("smith", CST, SMITH_C1, at=local(2001, 9, 1))
    assert cst.value == "IK"
    for kind, ok in [
        (AuthKind.INTERNAL, True),
        (AuthKind.KERBEROS, True),
        (AuthKind.UNIX, False),
        (AuthKind.EXTERNAL, False),
    ]:
        decision = evaluate(cst, CheckContext(target_auth=kind), at=AT)
        assert decision.allowed is ok, kind
    unknown = evaluate(cst, CheckContext(), at=AT)
    assert not unknown.allowed
    assert any("authentication kind was not given" in r for r in unknown.reasons)


def test_s_holds_for_custom_roles_only() -> None:
    index = seed_index()
    vgr = index.allowed("jones", VGR, HELPROOM_COURSE, at=local(2001, 9, 1))
    context = CheckContext(course_preferences=CoursePreferences(), resource=EVERYTHING.resource)
    assert evaluate(vgr, context, at=AT).allowed


def test_two_roles_allow_when_either_role_s_conditions_hold() -> None:
    # ta gives bre&RL and st gives bre&RXL: merged RLX, but without session state the TA's
    # conditions alone (R, L) suffice. Holding a second role never takes anything away.
    index = RoleIndex(
        users=[User("u", "msu")],
        assignments=[
            RoleAssignment("u", "ta", Area.parse("/msu/c1")),
            RoleAssignment("u", "st", Area.parse("/msu/c1")),
        ],
    )
    bre = index.allowed("u", BRE, Area.parse("/msu/c1"), at=AT)
    assert bre.value == "RLX"
    context = CheckContext(resource=EVERYTHING.resource, locks=Locks())
    decision = evaluate(bre, context, at=AT)
    assert decision.allowed
    assert decision.reasons[0].startswith("allowed")
    assert any(r.startswith("st at /msu/c1 (RXL): fails") for r in decision.reasons)


def test_the_resource_rule_gets_the_user_privilege_area_and_instant() -> None:
    seen: list[tuple[str, str, str, datetime]] = []

    def rule(uid: str, privilege: str, area: Area, at: datetime) -> ResourceVerdict:
        seen.append((uid, privilege, area.path, at))
        return ResourceVerdict(True, "open")

    index = _ta_index()
    context = CheckContext(course_preferences=CoursePreferences(), resource=rule)
    check(index, "tina", VGR, Area.parse("/msu/c1/s3"), at=AT, context=context)
    assert seen == [("tina", "vgr", "/msu/c1/s3", AT)]


def test_permission_denied_helper() -> None:
    denied = Permission.denied("u", "vgr", Area.system(), ["because"])
    assert not denied.granted
    assert denied.explanation == ("because",)
