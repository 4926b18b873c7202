"""The demo LMS of ``make demo``: registered once, its course linked to the example course
instance, served at /demo-lms with its own headers (its sign-in step runs in its own frame)."""

from __future__ import annotations

from api_support import World
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from coursegate.cli.demo_world import seed_demo_lms
from coursegate.http.settings import Settings
from coursegate.server import create_app
from coursegate.store.models import LtiContext, LtiPlatform

BASE = "http://127.0.0.1:8000"


def test_the_demo_lms_is_registered_once_and_linked(world: World) -> None:
    for _ in range(2):
        with world.ctx() as ctx:
            seed_demo_lms(ctx, BASE)
    with world.ctx() as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(LtiPlatform)) == 1
        [context] = ctx.session.scalars(select(LtiContext)).all()
        assert context.course_instance is not None
        assert context.course_instance.short_name == "Sp24"
        platform = ctx.session.scalars(select(LtiPlatform)).one()
        assert platform.issuer == BASE + "/demo-lms" and platform.match_email


def test_the_demo_app_serves_the_lms_with_its_own_headers(world: World) -> None:
    settings = Settings(
        cookie_secure=False,
        data_dir=str(world.data_dir),
        secret_key="k",
        public_url=BASE,
        demo_lms=True,
    )
    app = create_app(settings, engine=world.engine, clock=world.clock)
    c = TestClient(app, base_url=BASE)
    home = c.get("/demo-lms/")
    assert home.status_code == 200 and "Launch coursegate as Ana" in home.text
    course = c.get("/demo-lms/course/student")
    assert 'src="http://127.0.0.1:8000/lti/login?' in course.text
    assert course.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in course.headers["content-security-policy"]
    # Without the setting, there is no demo LMS.
    plain = create_app(Settings(secret_key="k"), engine=world.engine, clock=world.clock)
    assert TestClient(plain).get("/demo-lms/").status_code in (303, 404)


def test_the_demo_lms_people_are_the_demo_worlds() -> None:
    from coursegate.cli import demo_world as demo
    from coursegate.server.demo_lms import demo_people

    people = demo_people()
    for key, user in (
        ("student", demo.STUDENTS[0]),
        ("ta", demo.TA),
        ("instructor", demo.INSTRUCTOR),
    ):
        assert (people[key].email, people[key].name) == (user.uid, user.name)
