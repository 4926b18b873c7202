"""The one-click extension form (staff/extensions/new) over HTTP: pre-filled from the matrix's
links, presets counted from the student's deadline now (also across a daylight-saving change
in the course's zone, America/Chicago), a preview that writes nothing, saving one exception
with its history, a section and a pasted list (all or nothing), bad input beside its field,
and who may."""

from __future__ import annotations

import html
import re
from typing import Any

from api_support import World
from web_support import CI, STAFF, PageClient, text_of

NEW = STAFF + "/extensions/new"


def test_smoke(pages: Any) -> None:
    ins: PageClient = pages("instructor")
    r = ins.get(NEW + "?uid=ana@example.edu&assessment=hw/hw2")
    print(text_of(r.text))
    assert r.status_code == 200
    r = ins.post(NEW, {"who": "student", "uid": "ana@example.edu", "assessment": "hw/hw2", "deadline": "2d", "action": "preview"})
    print(r.status_code, text_of(r.text))
    r = ins.post(NEW, {"who": "student", "uid": "ana@example.edu", "assessment": "hw/hw2", "deadline": "2d", "action": "save", "reason": "flu"})
    print(r.status_code, r.headers.get("location"), text_of(ins.follow(r).text)[:600])
    assert 0
