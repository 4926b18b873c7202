"""Server configuration: environment variables, optionally a TOML file, then defaults.

Every setting has an environment variable ``COURSEGATE_<NAME>`` (upper case); a TOML file named
by ``COURSEGATE_CONFIG`` may set the same names (lower case) under ``[server]``. The
environment wins over the file. Nothing here reads the clock or the database.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any


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
    """Only requests from these addresses may use ``trusted_header``."""
    allow_at_header: bool = False
    """Accept ``X-Coursegate-At`` to ask "what if it were then" (tests and demos only)."""
    schedule_interval_seconds: int = 300
    """How often the server runs the class-account schedule (0: never)."""
    home_root: str = ""
    """Where class accounts' home directories live (wipes delete only under it)."""
    mail_domain: str = "users.example.edu"
    smtp_url: str = ""
    """``smtp://host:port``; empty: mail goes to the outbox (a Maildir under ``data_dir``)."""
    clock_start: str = ""
    """ISO instant the server's clock starts from (``make demo`` runs in the example term);
    empty: the real time. Time then runs at the normal pace."""

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

    def secret(self) -> str:
        """The signing key: the setting, or one generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = Path(self.data_dir) / "secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        path.write_text(key)
        path.chmod(0o600)
        return key
