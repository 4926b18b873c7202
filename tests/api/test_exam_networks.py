"""Testing-centre networks (issue 15, class 7): administrators define CIDR ranges (IPv4, IPv6),
per domain or site-wide, optionally within a window; bad ranges are clear errors naming the
field, over HTTP (422) and on the command line (exit 2); every change is in the history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from api_support import World, body
from sqlalchemy import select
from typer.testing import CliRunner

from coursegate.cli import demo_world as demo
from coursegate.services.common.places import ensure_domain
from coursegate.store.models import HistoryEntry

NETWORKS = "/api/v1/exam-networks"
LAB = {"name": "Grainger lab", "cidr": "192.0.2.0/24", "domain": demo.DOMAIN}
WINDOW_BACKWARDS = ("--starts-at", "2024-03-01", "--ends-at", "2024-02-01")


def superuser(world: World) -> Any:
    return world.sign_in(demo.SUPERUSER.uid, demo.SUPERUSER.password)


def history(world: World) -> list[tuple[str, str]]:
    with world.ctx() as ctx:
        rows = ctx.session.execute(
            select(HistoryEntry.action, HistoryEntry.actor)
            .where(HistoryEntry.subject_kind == "exam_network")
            .order_by(HistoryEntry.id)
        )
        return [(a, who) for a, who in rows]


def test_an_administrator_adds_lists_and_removes_networks(world: World) -> None:
    admin = world.client("admin")
    r = admin.post(NETWORKS, json={**LAB, "reason": "midterm labs"})
    assert r.status_code == 201, r.text
    lab = body(r)
    assert (lab["name"], lab["cidr"], lab["domain"], lab["active"]) == (
        "Grainger lab", "192.0.2.0/24", demo.DOMAIN, True,
    )  # fmt: skip
    v6 = admin.post(NETWORKS, json={**LAB, "name": "Lab v6", "cidr": "2001:DB8:5::/48"})
    assert v6.status_code == 201 and body(v6)["cidr"] == "2001:db8:5::/48"  # canonical form
    again = admin.post(NETWORKS, json=LAB)
    assert again.status_code == 409 and body(again)["error"]["field"] == "name"
    listed = body(admin.get(NETWORKS))
    assert [n["name"] for n in listed] == ["Grainger lab", "Lab v6"]
    gone = admin.delete(f"{NETWORKS}/{lab['id']}", params={"reason": "lab closed"})
    assert gone.status_code == 200 and body(gone)["active"] is False
    assert admin.delete(f"{NETWORKS}/{lab['id']}").status_code == 200  # nothing more to do
    assert [n["name"] for n in body(admin.get(NETWORKS))] == ["Lab v6"]
    assert len(body(admin.get(NETWORKS, params={"removed": "true"}))) == 2
    assert history(world) == [
        ("exam_network.add", demo.ADMIN.uid),
        ("exam_network.add", demo.ADMIN.uid),
        ("exam_network.remove", demo.ADMIN.uid),
    ]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"cidr": "192.0.2.7/24"}, "cidr", "host bits set"),
        ({"cidr": "2001:db8::1/48"}, "cidr", "did you mean 2001:db8::/48"),
        ({"cidr": "192.0.2.0"}, "cidr", "no prefix length"),
        ({"cidr": "the lab"}, "cidr", "not a network in CIDR form"),
        ({"cidr": "10.0.0.0/33"}, "cidr", "not a network in CIDR form"),
        ({"cidr": ""}, "cidr", "give a network"),
        ({"name": "  "}, "name", "give the network a name"),
        (
            {"starts_at": "2024-02-27T10:00:00-06:00", "ends_at": "2024-02-27T09:00:00-06:00"},
            "ends_at",
            "must end after it starts",
        ),
        ({"starts_at": "Feb 27"}, "starts_at", "not an ISO 8601 date"),
        ({"ends_at": "2024-02-27T10:00:00"}, "ends_at", "needs an offset"),
        ({"domain": "nowhere"}, "domain", "no domain"),
    ],
)
def test_bad_networks_name_the_field(
    world: World, change: dict[str, Any], field: str, words: str
) -> None:
    r = world.client("admin").post(NETWORKS, json={**LAB, **change})
    assert r.status_code in (404, 422), r.text
    error = body(r)["error"]
    assert error["field"] == field and words in error["message"], error
    assert history(world) == []


def test_who_may_define_networks(world: World) -> None:
    for persona in ("student", "ta", "instructor", "other_instructor"):
        assert world.client(persona).post(NETWORKS, json=LAB).status_code == 403, persona
        assert world.client(persona).get(NETWORKS).status_code == 403, persona
    # a domain coordinator administers their domain, not the site nor another domain
    with world.ctx() as ctx:
        ensure_domain(ctx, "otheruniversity", "Other University")
    admin = world.client("admin")
    site = admin.post(NETWORKS, json={**LAB, "domain": None})
    assert site.status_code == 403 and "site-wide" in body(site)["error"]["message"]
    other = admin.post(NETWORKS, json={**LAB, "domain": "otheruniversity"})
    assert other.status_code == 403
    # a superuser defines site-wide networks and anyone's
    root = superuser(world)
    assert root.post(NETWORKS, json={**LAB, "domain": None}).status_code == 201
    theirs = root.post(NETWORKS, json={**LAB, "domain": "otheruniversity"})
    assert theirs.status_code == 201
    # the coordinator sees the site-wide network and their own domain's, not the other's
    assert [n["domain"] for n in body(admin.get(NETWORKS))] == [None]
    assert admin.delete(f"{NETWORKS}/{body(theirs)['id']}").status_code == 403
    assert len(body(root.get(NETWORKS))) == 2


# -- the command line ---------------------------------------------------------------------------


def cli(tmp_path: Path, *args: str) -> tuple[int, Any]:
    from coursegate.cli.main import app

    env = {"COURSEGATE_DATA_DIR": str(tmp_path / "cli-data"), "COURSEGATE_DATABASE_URL": None}
    res = CliRunner().invoke(app, ["exam-networks", *args], env=env)  # type: ignore[arg-type]
    try:
        return res.exit_code, json.loads(res.stdout)
    except json.JSONDecodeError:
        return res.exit_code, res.stdout


def test_the_command_line_adds_lists_and_removes(tmp_path: Path) -> None:
    code, added = cli(tmp_path, "add", "Lab A", "198.51.100.0/24", "--json")
    assert code == 0, added
    assert added["domain"] is None and added["cidr"] == "198.51.100.0/24"
    window = ["--starts-at", "2024-02-27T08:00", "--ends-at", "2024-02-27T18:00"]
    code, v6 = cli(tmp_path, "add", "Lab B", "2001:db8:7::/64", *window, "--json")
    assert code == 0 and v6["starts_at"] == "2024-02-27T08:00:00+00:00"
    code, listed = cli(tmp_path, "list", "--json")
    assert code == 0 and [n["name"] for n in listed] == ["Lab A", "Lab B"]
    code, text = cli(tmp_path, "list")
    assert code == 0 and "198.51.100.0/24" in text and "site-wide" in text
    code, gone = cli(tmp_path, "remove", str(added["id"]), "--reason", "closed", "--json")
    assert code == 0 and gone["active"] is False


@pytest.mark.parametrize(
    ("args", "path", "words"),
    [
        (["add", "Lab", "198.51.100.9/24"], "cidr", "host bits set"),
        (["add", "Lab", "fe80::/129"], "cidr", "CIDR form"),
        (["add", "Lab", "198.51.100.0"], "cidr", "no prefix length"),
        (
            ["add", "Lab", "198.51.100.0/24", *WINDOW_BACKWARDS],
            "ends_at",
            "must end after it starts",
        ),
        (["add", "Lab", "198.51.100.0/24", "--ends-at", "soon"], "ends_at", "ends_at"),
        (["add", "Lab", "198.51.100.0/24", "--domain", "nowhere"], "domain", "no domain"),
        (["remove", "99"], "network_id", "no testing-centre network 99"),
    ],
)
def test_the_command_line_refuses_bad_ranges_with_exit_2(
    tmp_path: Path, args: list[str], path: str, words: str
) -> None:
    code, out = cli(tmp_path, *args)
    assert code == 2, out
    (problem,) = out["errors"]
    assert problem["path"] == path and words in problem["message"], problem
