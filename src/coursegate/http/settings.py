"""Server configuration: environment variables, optionally a TOML file, then defaults.

Every setting has an environment variable ``COURSEGATE_<NAME>`` (upper case); a TOML file named
by ``COURSEGATE_CONFIG`` may set the same names (lower case) under ``[server]``. The
environment wins over the file. Nothing here reads the clock or the database.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from coursegate.store.db import private_dir


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    """None: the embedded SQLite file under ``data_dir``."""
    data_dir: str = ".coursegate"
    secret_key: str = ""
    """Signs calendar links. Empty: a random key kept in ``data_dir/secret_key``."""
    cookie_secure: bool = True
    """Send the session cookie over HTTPS only. ``make demo`` turns it off for
    http://127.0.0.1."""
    session_cookie: str = "coursegate_session"
    trusted_header: str = ""
    """A header set by a single-sign-on proxy (e.g. ``X-Remote-User``); empty: not used."""
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    """Only requests from these addresses may use ``trusted_header`` or ``forwarded_header``."""
    forwarded_header: str = ""
    """The header a reverse proxy puts the client's address in (e.g. ``X-Forwarded-For``);
    believed only from ``trusted_proxies``. Empty: the client is the socket's peer. Failed
    sign-ins are counted per client address."""
    allow_at_header: bool = False
    """Accept ``X-Coursegate-At`` to ask "what if it were then" (tests and demos only)."""
    schedule_interval_seconds: int = 300
    """How often the server runs the class-account schedule (0: never)."""
    home_root: str = ""
    """Where class accounts' home directories live (wipes delete only under it)."""
    mail_domain: str = "users.example.edu"
    smtp_url: str = ""
    """``smtp://host:port``; empty: mail goes to the outbox (a Maildir under ``data_dir``)."""
    public_url: str = ""
    """This server's address as browsers and LMSs reach it (``https://coursegate.example.edu``):
    the LTI tool's URLs are made from it. Empty: each request's own address."""
    lti_roster_sync_hours: int = 24
    """How often the server syncs each linked LMS course's roster on its own (0: never; staff
    can always sync on demand)."""
    demo_lms: bool = False
    """Serve the demo LMS at ``/demo-lms`` (``make demo`` only): an LTI 1.3 platform to launch
    coursegate from."""
    clock_start: str = ""
    """ISO instant the server's clock starts from (``make demo`` runs in the example term);
    empty: the real time. Time then runs at the normal pace."""
    editor_writes: bool = False
    """Let the access-rule editor's Save write course files (then sync them). Off: the editor
    offers the file to download instead. Writes happen only in ``editor_course_dirs``."""
    editor_course_dirs: tuple[str, ...] = ()
    """The course directories (git working trees) Save may write into, comma separated; a
    course is matched by its ``infoCourse.json`` name. The server never commits."""

    @staticmethod
    def load(environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        config = env.get("COURSEGATE_CONFIG")
        if config:
            data = tomllib.loads(Path(config).read_text())
            values.update(data.get("server", {}))
        for f in fields(Settings):
            raw = env.get(f"COURSEGATE_{f.name.upper()}")
            if raw is not None:
                values[f.name] = raw
        known = {f.name for f in fields(Settings)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{config}: unknown settings under [server]: {', '.join(unknown)}")
        return Settings()._with(values)

    def _with(self, values: dict[str, Any]) -> Settings:
        typed: dict[str, Any] = {}
        for f in fields(self):
            if f.name not in values:
                continue
            v = values[f.name]
            default = getattr(self, f.name)
            if isinstance(default, bool):
                v = v if isinstance(v, bool) else str(v).strip().lower() in {"1", "true", "yes"}
            elif isinstance(default, int):
                v = int(v)
            elif isinstance(default, tuple):
                v = tuple(x.strip() for x in (v.split(",") if isinstance(v, str) else v))
            typed[f.name] = v
        return replace(self, **typed)

    def client_address(self, peer: str, forwarded: Sequence[str] = ()) -> str:
        """The client's address: the socket's ``peer``, unless ``forwarded_header`` is set and
        the peer is a trusted proxy — then the right-most address of the header (``forwarded``:
        its values, in order) that is not itself a trusted proxy. The proxies append the
        address they saw, so what a client writes into the header itself stays on the left,
        unbelieved. An entry that is no IP address ends the walk (the last proxy is named
        instead: a misconfigured proxy never lets a client choose its address)."""
        if not self.forwarded_header or peer not in self.trusted_proxies:
            return peer
        hops = [h.strip() for value in forwarded for h in value.split(",") if h.strip()]
        found = peer
        for raw in reversed(hops):
            hop = _bare_address(raw)
            if hop is None:
                return found
            found = hop
            if hop not in self.trusted_proxies:
                return hop
        return found

    def secret(self) -> str:
        """The signing key: the setting, or one generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = Path(self.data_dir) / "secret_key"
        if path.exists():
            return path.read_text().strip()
        private_dir(self.data_dir)
        key = secrets.token_urlsafe(32)
        # Written whole into a 0600 file first (never readable by others, not even for a
        # moment), then put in place at once; if another process was first, its key counts.
        fd, written = tempfile.mkstemp(dir=self.data_dir, prefix=".secret_key-")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(key)
            os.link(written, path)
        except FileExistsError:
            return path.read_text().strip()
        finally:
            os.unlink(written)
        return key


def _bare_address(hop: str) -> str | None:
    """``203.0.113.7``, ``203.0.113.7:4711``, ``2001:db8::1`` or ``[2001:db8::1]:4711`` → the
    address alone; None when it is no IP address."""
    if hop.startswith("["):
        hop = hop[1 : hop.find("]")] if "]" in hop else ""
    elif hop.count(":") == 1:
        hop = hop.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:
        return None
