"""``coursegate convert``: the file side of converting legacy ``allowAccess`` (shell).

Reads the files, asks :mod:`coursegate.core.convert` for a proposal, reads the proposal back
through the same validator as any course file, and compares decisions. Writes a file only when
asked (``--write``) and only when the conversion is equivalent with nothing left for the
database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from coursegate.core.access_control import (
    AccessControlConfig,
    AccessPatch,
    compile_settings,
    resolve_settings,
)
from coursegate.core.convert import Difference, Proposal, compare, propose_modern, user_classes
from coursegate.core.instants import DEFAULT_TIMEZONE, DateError, zone
from coursegate.core.legacy_rules import legacy_policy
from coursegate.core.model import AssessmentPolicy, Form, UserFacts
from coursegate.courses import models as m
from coursegate.courses.legacy_access import legacy_rules
from coursegate.courses.loader import read_json
from coursegate.courses.modern_access import modern_access, modern_patch
from coursegate.courses.problems import CourseError, Problem
from coursegate.courses.reader import Reader
from coursegate.courses.reading import Limits


@dataclass
class Report:
    file: str
    tz: ZoneInfo
    proposal: Proposal | None
    differences: list[Difference] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False

    @property
    def student_differences(self) -> list[Difference]:
        return [d for d in self.differences if not d.staff]

    @property
    def staff_differences(self) -> list[Difference]:
        return [d for d in self.differences if d.staff]

    @property
    def equivalent(self) -> bool:
        """Equivalent for every student (staff bypass the rules in the modern form)."""
        return self.proposal is not None and not self.student_differences and not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "equivalent": self.equivalent,
            "accessControl": self.proposal.access_control if self.proposal else None,
            "student_overrides": self.proposal.student_overrides if self.proposal else [],
            "notes": self.proposal.notes if self.proposal else [],
            "differences": [d.render(self.tz) for d in self.student_differences],
            "staff_differences": [d.render(self.tz) for d in self.staff_differences],
            "errors": [p.to_json() for p in self.problems],
            "written": self.written,
        }

    def render(self) -> str:
        lines = [f"== {self.file}: " + ("equivalent" if self.equivalent else "NOT equivalent")]
        for p in self.problems:
            lines.append(f"  error at {p.path}: {p.message}")
        if self.proposal is not None:
            lines.append(
                '  "accessControl": '
                + json.dumps(self.proposal.access_control, indent=2).replace("\n", "\n  ")
            )
            for o in self.proposal.student_overrides:
                lines.append(
                    f"  per-student override to create in the database for {', '.join(o['uids'])}: "
                    + json.dumps(o["element"])
                )
            lines += [f"  note: {n}" for n in self.proposal.notes]
        for title, diffs in (
            ("where the decisions differ for students:", self.student_differences),
            (
                "where they differ for TAs (not counted: in the modern form course staff "
                "bypass the rules):",
                self.staff_differences,
            ),
        ):
            shown = diffs[:60]
            if shown:
                lines.append(f"  {title}")
                lines += [f"    - {d.render(self.tz)}" for d in shown]
                if len(diffs) > len(shown):
                    lines.append(f"    ... and {len(diffs) - len(shown)} more")
        if self.written:
            lines.append("  written.")
        return "\n".join(lines)


def _zone_for(file: Path) -> ZoneInfo:
    """The zone a file's naive dates are read in: its course instance's, else its course's."""
    for parent in file.parents:
        for name in ("infoCourseInstance.json", "infoCourse.json"):
            info = parent / name
            if info.is_file():
                data, _ = read_json(info, str(info))
                tz_name = (data or {}).get("timezone")
                if isinstance(tz_name, str):
                    try:
                        return zone(tz_name)
                    except DateError:
                        pass
                if name == "infoCourse.json":
                    return zone(DEFAULT_TIMEZONE)
    return zone(DEFAULT_TIMEZONE)


def convert_file(path: Path, *, write: bool = False, root: Path | None = None) -> Report | None:
    """Propose the modern form of one legacy file. Under ``root`` (a directory being
    converted), a file reached through a link that leaves it is refused, as sync refuses it."""
    data, errs = read_json(path, str(path), root=root)
    tz = _zone_for(path)
    if data is None:
        return Report(str(path), tz, None, problems=errs)
    if "allowAccess" not in data:
        return None
    r = Reader(str(path), tz)
    rules = legacy_rules(r, data["allowAccess"], "$.allowAccess")
    if rules is None or not r.ok:
        return Report(
            str(path), tz, None, problems=[p for p in r.problems if p.severity == "error"]
        )
    proposal = propose_modern(rules, tz)
    back = Reader(f"{path} (converted)", tz)
    parsed = modern_access(back, proposal.access_control, "$.accessControl", None)
    personal: dict[str, tuple[AccessPatch, ...]] = {}
    for o in proposal.student_overrides:
        el = m.ModernElementModel.model_validate(o["element"])
        patch = modern_patch(back, el, "$.override", f"override for {o['uids'][0]}", defaults=False)
        for uid in o["uids"]:
            personal[uid] = (patch,)
    if parsed is None or not back.ok:
        return Report(
            str(path), tz, proposal, problems=[p for p in back.problems if p.severity == "error"]
        )
    config = AccessControlConfig(Form.MODERN, parsed[0], parsed[1])

    def legacy(user: UserFacts) -> AssessmentPolicy:
        return legacy_policy(rules)

    def modern(user: UserFacts) -> AssessmentPolicy:
        return compile_settings(resolve_settings(config, user.sections, personal.get(user.uid, ())))

    report = Report(str(path), tz, proposal, compare(legacy, modern, user_classes(rules), tz))
    if write and report.equivalent and not proposal.student_overrides:
        out = {}
        for k, v in data.items():
            if k == "allowAccess":
                out["accessControl"] = proposal.access_control
            else:
                out[k] = v
        path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
        report.written = True
    return report


def convert_path(target: Path, *, write: bool = False) -> list[Report]:
    if target.is_file():
        rep = convert_file(target, write=write)
        return [rep] if rep is not None else []
    if not target.is_dir():
        raise CourseError([Problem(str(target), "$", "no such file or directory")])
    reports = []
    found = sorted(target.glob("**/infoAssessment.json"))
    most = Limits.resolve().max_files
    if len(found) > most:
        raise CourseError(
            [Problem(str(target), "$", f"more than {most:,} assessment files: convert part of it")]
        )
    for f in found:
        rep = convert_file(f, write=write, root=target)
        if rep is not None:
            reports.append(rep)
    return reports
