"""``coursegate lti``: register a platform, add a deployment, list, rotate the key, print the
URLs; bad input names the field and exits 2 (the operator's command line, SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coursegate.cli.main import app

runner = CliRunner()
CANVAS = [
    "Canvas",
    "--issuer", "https://canvas.instructure.com",
    "--client-id", "10000000000001",
    "--auth-url", "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "--token-url", "https://sso.canvaslms.com/login/oauth2/token",
    "--jwks-url", "https://sso.canvaslms.com/api/lti/security/jwks",
    "--domain", "exampleuniversity",
    "--deployment", "1:abc",
]  # fmt: skip


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An embedded database with the domain the platform's users go to."""
    from coursegate.services.common.context import SYSTEM, Ctx
    from coursegate.services.common.places import ensure_domain
    from coursegate.store.db import make_engine, session_factory, transaction
    from coursegate.store.migrate import upgrade

    monkeypatch.setenv("COURSEGATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COURSEGATE_DATABASE_URL", raising=False)
    monkeypatch.delenv("COURSEGATE_CONFIG", raising=False)
    engine = make_engine()
    upgrade(engine)
    with transaction(session_factory(engine)) as s:
        ensure_domain(Ctx(s, SYSTEM, 0), "exampleuniversity", "Example University")
    engine.dispose()
    return tmp_path


def test_register_list_deploy_rotate(data_dir: Path) -> None:
    r = runner.invoke(app, ["lti", "add-platform", *CANVAS, "--json"])
    assert r.exit_code == 0, r.stdout
    platform = json.loads(r.stdout)
    assert platform["deployment_ids"] == ["1:abc"] and platform["match_email"] is False
    r = runner.invoke(app, ["lti", "add-deployment", str(platform["id"]), "2:def"])
    assert r.exit_code == 0, r.stdout
    [listed] = json.loads(runner.invoke(app, ["lti", "list", "--json"]).stdout)
    assert listed["deployment_ids"] == ["1:abc", "2:def"]
    r = runner.invoke(app, ["lti", "rotate-key"])
    assert r.exit_code == 0 and "stays published" in r.stdout
    again = runner.invoke(app, ["lti", "add-platform", *CANVAS])
    assert again.exit_code == 2 and "registered already" in again.stdout


def test_a_plain_http_url_is_refused_naming_the_field(data_dir: Path) -> None:
    bad = [*CANVAS]
    bad[bad.index("--jwks-url") + 1] = "http://lms.example.edu/jwks"
    r = runner.invoke(app, ["lti", "add-platform", *bad])
    assert r.exit_code == 2
    [error] = json.loads(r.stdout)["errors"]
    assert error["path"] == "jwks_url" and "https://" in error["message"]


def test_urls_are_printed_ready_to_paste() -> None:
    r = runner.invoke(app, ["lti", "urls", "https://cg.example.edu/", "--json"])
    assert json.loads(r.stdout)["login_url"] == "https://cg.example.edu/lti/login"
