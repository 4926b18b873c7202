"""The protective headers every answer carries, and the Content-Security-Policies of pages and
of everything else (set by ``coursegate.server.app.ResponseHeaders``; a page that must differ —
the API docs, an LTI page that posts to an LMS — sends its own)."""

from __future__ import annotations

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""Every HTML page: scripts and styles come from ``/static`` only — no inline script, event
handler (``onclick=``), ``style=`` attribute or eval (htmx's ``hx-on`` and ``js:`` values would
need it: the pages use neither). ``data:`` images for the empty favicon.

LTI: a tool launched from a learning-management system is shown in the LMS's frame. The launch
pages, and the pages of a session an LMS launch opened, set ``request.state.frame_ancestors``
(the registered platforms' origins): :class:`ResponseHeaders` then puts those in
``frame-ancestors`` and drops ``X-Frame-Options``; every other page stays unframeable."""

API_CSP = "default-src 'none'; frame-ancestors 'none'"
"""Everything else (JSON, calendars, CSS and scripts): nothing to load, nothing to frame."""
API_CSP_HEADER = (b"content-security-policy", API_CSP.encode())
PROTECTIVE = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
"""The headers every answer carries."""
