"""JSON Schemas of the course files, for editors (``coursegate schema``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from coursegate.courses import models as m


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class AssessmentFile(_Open):
    """infoAssessment.json: one of allowAccess, accessControl (list) or accessControl (object)."""

    uuid: str | None = None
    type: str | None = None
    title: str | None = None
    set: str | None = None
    number: str | None = None
    allowAccess: list[m.LegacyRuleModel] | None = Field(
        None, description="Legacy access rules: the highest credit among those that hold wins."
    )
    accessControl: list[m.ModernElementModel] | m.RfcAccessModel | None = Field(
        None,
        description="A list: defaults then label overrides (modern). An object: the RFC form.",
    )
    accessControlOverrides: list[m.RfcOverrideModel] | None = None


class CourseInstanceFile(_Open):
    """infoCourseInstance.json."""

    uuid: str | None = None
    longName: str | None = None
    timezone: str | None = None
    allowAccess: list[m.LegacyInstanceRuleModel] | None = None
    publishing: m.PublishingModel | None = None
    accessControl: m.InstanceAccessModel | None = None
    accessControlOverrides: list[m.InstanceOverrideModel] | None = None
    selfEnrollment: m.SelfEnrollmentModel | None = None
    studentLabels: list[m.StudentLabelModel] | None = None
    setAccessControl: dict[str, list[m.ModernElementModel]] | None = Field(
        None, description="Defaults and label overrides for every assessment of a set."
    )


class CourseFile(_Open):
    """infoCourse.json."""

    uuid: str | None = None
    name: str | None = None
    title: str | None = None
    timezone: str | None = Field(None, description="IANA zone; default America/Chicago.")
    institution: str | None = None


SCHEMAS: dict[str, type[BaseModel]] = {
    "infoCourse.schema.json": CourseFile,
    "infoCourseInstance.schema.json": CourseInstanceFile,
    "infoAssessment.schema.json": AssessmentFile,
}


def schema(model: type[BaseModel]) -> dict[str, Any]:
    out = model.model_json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return out


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMAS.items():
        path = directory / name
        path.write_text(json.dumps(schema(model), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
