"""Autosave and crash recovery: the editor's session is saved in the background after each edit;
a clean close removes it, so any autosave found at start-up is from a crash or a kill.

Autosaves are named ``<time>-<pid>.simnet``. One whose process is still running belongs to another
open editor, not to a crash, and is left alone; so are its temporary files while it writes.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from engine.errors import SimNetError
from engine.session import EditSession, read_manifest, save_session

SUFFIX = ".simnet"


def state_directory() -> Path:
    """$SIMNET_STATE_DIR, else the platform's per-user state folder."""
    configured = os.environ.get("SIMNET_STATE_DIR")
    if configured:
        return Path(configured)
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "SIM-Net Studio"
    return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "simnet-studio"


def autosave_folder() -> Path:
    folder = state_directory() / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def autosave_path(session_id: str) -> Path:
    return autosave_folder() / f"{session_id}{SUFFIX}"


def new_session_id() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"


def write_autosave(session: EditSession, session_id: str) -> Path:
    """Save atomically to this session's autosave file; returns its path."""
    path = autosave_path(session_id)
    dirty = session.dirty
    save_session(path, session)
    session.dirty = dirty  # an autosave is not a save the user asked for
    return path


@dataclass(frozen=True)
class Recoverable:
    path: Path
    modified: float
    source: str | None


def _owner_pid(name: str) -> int | None:
    """The process id in an autosave's name (``<time>-<pid>.simnet`` or its ``.<...>.tmp``)."""
    stem = name.lstrip(".").split(SUFFIX)[0]
    tail = stem.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _running_elsewhere(pid: int | None) -> bool:
    """True when ``pid`` is another live process (then its autosave belongs to an open editor).

    Our own pid is never "elsewhere": this process removes its earlier autosaves itself, so one
    with our pid is from a crashed predecessor that had the same pid (common in containers)."""
    if pid is None or pid == os.getpid() or os.name == "nt":  # os.kill(pid, 0) would kill on Windows
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists but belongs to someone else
        return True
    return True


def remove_stale_temporaries() -> None:
    """Delete temporary files left by autosaves that were killed mid-write."""
    for path in autosave_folder().glob(f".*{SUFFIX}.*.tmp"):
        owner = _owner_pid(path.name)
        if owner != os.getpid() and not _running_elsewhere(owner):
            path.unlink(missing_ok=True)


def _source(path: Path) -> str | None:
    try:
        return read_manifest(path)["image"].get("source")
    except (SimNetError, KeyError, TypeError, AttributeError):  # an unreadable autosave is still listed
        return None


def find_recoverable(exclude: str | None = None) -> list[Recoverable]:
    """Autosaves left by sessions that did not close cleanly, newest first."""
    remove_stale_temporaries()
    found = []
    for path in autosave_folder().glob(f"*{SUFFIX}"):
        if (exclude and path.stem == exclude) or _running_elsewhere(_owner_pid(path.name)):
            continue
        try:
            modified = path.stat().st_mtime
        except OSError:  # removed meanwhile
            continue
        found.append(Recoverable(path, modified, _source(path)))
    return sorted(found, key=lambda item: -item.modified)


def discard(path: str | Path) -> None:
    Path(path).unlink(missing_ok=True)
