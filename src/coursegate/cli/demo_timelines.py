"""``coursegate demo-timelines``: readable timelines of the example course, without a server.

For a few students of the bundled example course, prints every assessment's timeline — when it
opens, what credit it gives, time limits, passwords, what stays visible — straight from the
decision core.
"""

from __future__ import annotations

import sys
from datetime import tzinfo
from pathlib import Path

from coursegate.core.engine import Facts, timelines
from coursegate.core.instants import MAX_INSTANT, MIN_INSTANT, from_instant
from coursegate.core.model import UserFacts
from coursegate.core.timeline import Stretch, readable_stretches
from coursegate.courses.loader import load_course

STUDENTS = [
    UserFacts(uid="ana@example.edu", sections=frozenset({"lab-a"})),
    UserFacts(uid="ben@example.edu", sections=frozenset({"lab-b", "extra-time"})),
    UserFacts(uid="chloe@example.edu", sections=frozenset({"lab-b", "drc"})),
]


def when(t: int, tz: tzinfo) -> str:
    if t <= MIN_INSTANT:
        return "    (start)    "
    if t >= MAX_INSTANT:
        return "   (for ever)  "
    return f"{from_instant(t, tz):%a %b %d %H:%M}"


def summary(s: Stretch) -> str:
    d = s.first
    if not d.access:
        return "listed, not open yet" if d.listed else "hidden"
    if d.credit > 0:
        parts = [d.credit_text]
    elif d.submittable:
        parts = ["practice, no credit"]
    elif not d.complete and not d.read_only:
        parts = ["open, but too late to start"]
    else:
        parts = ["view only"]
    if s.time_limit_text:
        parts.append(s.time_limit_text)
    if d.password_required:
        parts.append("password")
    if d.complete:
        parts.append("complete: questions " + ("shown" if d.questions_visible else "hidden"))
        parts.append("score " + ("shown" if d.score_visible else "hidden"))
    return " · ".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else "examples/course")
    instance_id = args[1] if len(args) > 1 else "Sp24"
    course = load_course(root)
    print(f"coursegate demo — {course.title or course.name} ({root})")
    for p in course.errors:
        print(f"  ERROR {p}")
    inst = course.instances.get(instance_id)
    if inst is None or inst.settings is None:
        print(f"no usable course instance {instance_id!r}")
        return 1
    print(f"course instance {instance_id}, time zone {inst.tz.key}\n")
    for aid, src in sorted(inst.assessments.items(), key=lambda kv: (kv[1].config.set_name, kv[0])):
        cfg = src.config
        print(f"■ {cfg.title or aid}  [{aid}, {cfg.form.value} rules]")
        seen: dict[tuple[object, ...], str] = {}
        for user in STUDENTS:
            _, tl = timelines(inst.policy, cfg, Facts(user=user), inst.tz)
            assert tl is not None
            rows = [s for s in readable_stretches(tl) if s.first.access or s.first.listed]
            key = tuple((s.start, s.end, s.first.key(), s.last.key()) for s in rows)
            who = f"{user.uid} ({', '.join(sorted(user.sections))})"
            if key in seen:
                print(f"   {who}: same as {seen[key]}")
                continue
            seen[key] = user.uid
            print(f"   {who}:")
            if not rows:
                print("      never open to this student in Public mode (testing centre only)")
            for s in rows:
                print(f"      {when(s.start, inst.tz)} → {when(s.end, inst.tz)}  {summary(s)}")
        print()
    print(
        "Try one decision:  .venv/bin/coursegate decide --request examples/requests/hw1-early.json"
    )
    print(
        "or its timeline:   .venv/bin/coursegate timeline"
        " --request examples/requests/hw1-early.json"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
