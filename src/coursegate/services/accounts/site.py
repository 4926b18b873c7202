"""Where the class-account tools act outside the database: the home root, the mail domain and
transport, the data directory (outbox, certificate authority) and the site's wipe hooks.

Built once at the edge (the command line, the server) from :class:`coursegate.http.settings.
Settings` — the same ``COURSEGATE_*`` settings everywhere — and passed down explicitly.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from coursegate.services.accounts.credentials import Issuer
from coursegate.services.accounts.hooks import WipeHook

HOOKS_GROUP = "coursegate.wipe_hooks"
"""The entry-point group a site package registers its wipe hooks in."""
HOOKS_ENV = "COURSEGATE_WIPE_HOOKS"
"""``name=module:function,...``: hooks without packaging (read where the site is built)."""
PAUSE_ENV = "COURSEGATE_TEST_WIPE_PAUSE"
"""``<step>:<n>:<marker file>``: tests only — after the n-th account's ``step`` (inside the
step's transaction, before it commits) write the marker file and sleep, so a test can kill the
process there."""
PAUSE_SECONDS_ENV = "COURSEGATE_TEST_PAUSE_SECONDS"


@dataclass(frozen=True)
class Site:
    home_root: str = ""
    """Where class accounts' home directories live (``<home_root>/<account>``)."""
    mail_domain: str = "users.example.edu"
    smtp_url: str = ""
    data_dir: Path = Path(".coursegate")
    hooks: tuple[WipeHook, ...] = ()
    test_pause: str | None = None
    test_pause_seconds: float = 60.0

    @property
    def outbox_dir(self) -> Path:
        """The Maildir the messages go to when no SMTP server is configured."""
        return self.data_dir / "outbox"

    @property
    def ca_dir(self) -> Path:
        return self.data_dir / "accounts-ca"

    def issuer(self, *, dry_run: bool = False) -> Issuer:
        return Issuer(self.ca_dir, dry_run=dry_run)

    @staticmethod
    def from_settings(settings: Any, environ: Mapping[str, str] | None = None) -> Site:
        """The site of the server's settings (``Settings.load()``), with the hooks registered
        as entry points and in ``COURSEGATE_WIPE_HOOKS``."""
        env = os.environ if environ is None else environ
        return Site(
            home_root=str(settings.home_root or ""),
            mail_domain=str(settings.mail_domain),
            smtp_url=str(settings.smtp_url or ""),
            data_dir=Path(settings.data_dir),
            hooks=load_hooks(env),
            test_pause=env.get(PAUSE_ENV) or None,
            test_pause_seconds=float(env.get(PAUSE_SECONDS_ENV, "60")),
        )


def load_hooks(environ: Mapping[str, str]) -> tuple[WipeHook, ...]:
    """Every registered wipe hook, in name order (entry points, then the environment)."""
    found: dict[str, WipeHook] = {}
    for ep in entry_points(group=HOOKS_GROUP):
        found[ep.name] = WipeHook(ep.name, ep.load())
    for raw in (environ.get(HOOKS_ENV) or "").split(","):
        item = raw.strip()
        if not item:
            continue
        name, _, target = item.partition("=")
        module, _, attr = target.partition(":")
        if not (name and module and attr):
            raise ValueError(
                f"{HOOKS_ENV}: {item!r} should read name=module:function (e.g. "
                "experiments=mysite.hooks:end_experiments)"
            )
        found[name.strip()] = WipeHook(name.strip(), getattr(importlib.import_module(module), attr))
    return tuple(found[k] for k in sorted(found))


__all__ = ["HOOKS_ENV", "HOOKS_GROUP", "PAUSE_ENV", "Site", "load_hooks"]
