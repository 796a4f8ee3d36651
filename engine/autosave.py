"""Autosave and crash recovery: the editor's session is saved in the background after each edit;
a clean close removes it, so any autosave found at start-up is from a crash or a kill."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from engine.session import EditSession, load_session, save_session

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


def find_recoverable(exclude: str | None = None) -> list[Recoverable]:
    """Autosaves left by sessions that did not close cleanly, newest first."""
    found = []
    for path in autosave_folder().glob(f"*{SUFFIX}"):
        if exclude and path.stem == exclude:
            continue
        try:
            session = load_session(path)
            source = str(session.artwork.path) if session.artwork.path else None
        except Exception:  # noqa: BLE001 - an unreadable autosave is skipped, not fatal
            source = None
        found.append(Recoverable(path, path.stat().st_mtime, source))
    return sorted(found, key=lambda item: -item.modified)


def discard(path: str | Path) -> None:
    Path(path).unlink(missing_ok=True)
