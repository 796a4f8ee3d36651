"""What the screenshot tools share: an editor run that leaves the user's settings and autosaves alone,
and waiting on the editor without blocking its event loop."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable


def isolate_user_state(scratch: Path) -> None:
    """Settings (SAM checkpoint, first-run flag) and autosaves go under ``scratch``, not the user's own.
    Call before the editor's modules are imported."""
    from PySide6.QtCore import QSettings

    os.environ["SIMNET_STATE_DIR"] = str(scratch / "state")
    QSettings.setDefaultFormat(QSettings.IniFormat)
    for fmt in (QSettings.IniFormat, QSettings.NativeFormat):  # Settings() names its organisation: native format
        QSettings.setPath(fmt, QSettings.UserScope, str(scratch / "settings"))


def pump(application, seconds: float = 0.0) -> None:
    """Run the event loop for ``seconds`` (at least one round)."""
    end = time.monotonic() + seconds
    while True:
        application.processEvents()
        if time.monotonic() >= end:
            return
        time.sleep(0.01)


def wait_until(application, condition: Callable[[], bool], what: str, timeout: float = 120.0,
               tool: str = "screenshots") -> float:
    """Run the event loop until ``condition()`` holds; the seconds it took (printed). Exits after ``timeout``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"{tool}: timed out waiting for {what}")
        pump(application, 0.05)
    elapsed = time.monotonic() - start
    print(f"  {what}: {elapsed:.1f} s")
    return elapsed
