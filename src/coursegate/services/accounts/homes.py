"""Class accounts' home directories, for the wipe's ``files`` step: the configured home root
checked, an account's home found under it, and what the home holds counted or deleted without
following a link or crossing a mount."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from coursegate.services.accounts import rules


class UnsafeHome(Exception):
    """Deleting would not be safe (or the home root is not usable): nothing was deleted."""


def home_root(setting: str) -> Path:
    """The configured home root, checked: set, absolute, without ``..``, an existing directory
    (resolved once), and not ``/``."""
    text = setting.strip()
    if not text:
        raise UnsafeHome(
            "home_root is not set: set COURSEGATE_HOME_ROOT to the directory holding the class "
            "accounts' home directories (an empty setting is never taken as a directory)"
        )
    path = Path(text)
    if not path.is_absolute():
        raise UnsafeHome(f"home_root must be an absolute path, not {text!r}")
    if ".." in path.parts:
        raise UnsafeHome(f"home_root must not contain '..': {text!r}")
    real = Path(os.path.realpath(path))
    if real.parent == real:
        raise UnsafeHome(f"home_root {text!r} is the root of the file system; refusing")
    if not real.is_dir():
        raise UnsafeHome(
            f"the home root {text} is not an existing directory (not mounted?); nothing deleted"
        )
    return real


def home_of(root: Path, uid: str) -> Path:
    if not rules.is_account_name(uid):
        raise UnsafeHome(f"{uid!r} is not shaped like a class account; its home is not touched")
    return root / uid


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def delete_home(root: Path, uid: str) -> int:
    """Delete everything in ``root/uid`` (the directory itself stays); returns how many entries
    were removed. Safe to run again (nothing left: 0). Symbolic links are removed, never
    followed; a file system mounted inside the home stops the deletion with an error."""
    path = home_of(root, uid)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return 0
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        os.unlink(path)  # the link itself (inside the root), never what it points to
        return 1
    top = os.open(path, _DIR_FLAGS)
    try:
        return _empty(top, os.fstat(top).st_dev, path)
    finally:
        os.close(top)


def _empty(top: int, device: int, path: Path) -> int:
    """Remove every entry below the directory open as ``top``, without recursion (a deep tree
    cannot exhaust the stack) and by directory descriptor (a path swapped for a link while we
    work is not followed: opening it fails)."""
    removed = 0
    stack: list[tuple[int, list[str], str | None]] = [(top, os.listdir(top), None)]
    try:
        while stack:
            fd, names, name_in_parent = stack[-1]
            if names:
                name = names.pop()
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    if st.st_dev != device:
                        raise UnsafeHome(
                            f"{path}: a file system is mounted inside the home ({name}); "
                            "unmount it, then wipe again"
                        )
                    sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
                    stack.append((sub, os.listdir(sub), name))
                else:
                    os.unlink(name, dir_fd=fd)
                    removed += 1
                continue
            stack.pop()
            if name_in_parent is not None:
                os.close(fd)
                os.rmdir(name_in_parent, dir_fd=stack[-1][0])
                removed += 1
    finally:
        for fd, _, name_in_parent in stack:
            if name_in_parent is not None:
                os.close(fd)
    return removed


def count_home(root: Path, uid: str) -> int:
    """How many entries :func:`delete_home` would remove (for a dry run); links not followed."""
    path = home_of(root, uid)
    if not path.exists() and not path.is_symlink():
        return 0
    if path.is_symlink() or not path.is_dir():
        return 1
    total = 0
    for _, dirs, files in os.walk(path, followlinks=False):
        total += len(dirs) + len(files)
    return total


__all__ = ["UnsafeHome", "count_home", "delete_home", "home_of", "home_root"]
