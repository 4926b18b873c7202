"""The LMS platforms API (/api/v1/lti/...): the superuser registers, lists, adds a deployment
and rotates the key; a domain coordinator is refused; bad input is a 4xx naming the field."""

from __future__ import annotations

from api_support import World

from coursegate.cli import demo_world as demo

PLATFORM = {
    "name": "Canvas",
    "issuer": "https://canvas.instructure.com",
    "client_id": "10000000000001",
    "auth_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "token_url": "https://sso.canvaslms.com/login/oauth2/token",
    "jwks_url": "https://sso.canvaslms.com/api/lti/security/jwks",
    "domain": "exampleuniversity",
    "deployment_ids": ["1:abc"],
}


def test_the_superuser_registers_a_platform(world: World) -> None:
    root = world.sign_in(demo.SUPERUSER.uid, demo.SUPERUSER.password)
    r = root.post("/api/v1/lti/platforms", json=PLATFORM)
    assert r.status_code == 201, r.text
    platform = r.json()
    assert platform["deployment_ids"] == ["1:abc"] and platform["domain"] == "exampleuniversity"
    again = root.post("/api/v1/lti/platforms", json=PLATFORM)
    assert again.status_code == 409
    r = root.post(
        f"/api/v1/lti/platforms/{platform['id']}/deployments", json={"deployment_id": "2"}
    )
    assert r.status_code == 201 and r.json()["deployment_ids"] == ["1:abc", "2"]
    assert [p["name"] for p in root.get("/api/v1/lti/platforms").json()] == ["Canvas"]
    first = root.post("/api/v1/lti/keys/rotate").json()["signing_key"]
    second = root.post("/api/v1/lti/keys/rotate").json()
    assert second["signing_key"] != first and second["jwks_url"].endswith("/lti/jwks")
    published = {k["kid"] for k in root.get("/lti/jwks").json()["keys"]}
    assert {first, second["signing_key"]} <= published  # the old key stays published


def test_a_domain_coordinator_may_not_and_bad_input_names_its_field(world: World) -> None:
    admin = world.client("admin")
    r = admin.post("/api/v1/lti/platforms", json=PLATFORM)
    assert r.status_code == 403
    root = world.sign_in(demo.SUPERUSER.uid, demo.SUPERUSER.password)
    bad = root.post("/api/v1/lti/platforms", json={**PLATFORM, "jwks_url": "ftp://x"})
    assert bad.status_code == 422 and "jwks_url" in bad.text
