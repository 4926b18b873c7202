"""The test LMS: coursegate's own demo LMS (:mod:`coursegate.server.demo_lms`), run on a free
port of 127.0.0.1 so that coursegate fetches its key set over real HTTP."""

from __future__ import annotations

import html
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from coursegate.server.demo_lms import (
    CLAIM,
    INSTRUCTOR,
    LEARNER,
    TA,
    TEST_USER,
    Person,
    Platform,
)

__all__ = ["CLAIM", "INSTRUCTOR", "LEARNER", "TA", "TEST_USER", "Person", "Platform"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(platform: Platform, host: str = "127.0.0.1") -> Iterator[Platform]:
    """Serve ``platform`` on a free port of 127.0.0.1, addressed as ``host`` (``localhost``:
    another site than a tool on ``127.0.0.1``, for a browser)."""
    port = _free_port()
    platform.base = f"http://{host}:{port}"
    server = uvicorn.Server(
        uvicorn.Config(platform.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the test platform did not start"
        time.sleep(0.02)
    try:
        yield platform
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def auto_post(page: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the platform's auto-posting form."""
    action = re.search(r'action="([^"]+)"', page)  # the first form's
    assert action is not None, page
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
    return html.unescape(action.group(1)), {k: html.unescape(v) for k, v in fields.items()}
