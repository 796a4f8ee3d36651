"""The Qt binding must not corrupt Python's reference counts over a long session.

PySide6 6.12.0 on Python < 3.12 lost a reference to None/True/False at every signal emit and
every processEvents(); after a few thousand of them (minutes of painting) the editor aborted with
"Fatal Python error: none_dealloc". pyproject.toml excludes it; this test catches a binding like it.
"""
from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication
from app.bridge import GuiThreadBridge
app = QApplication([])
bridge = GuiThreadBridge()
deliver = bridge.wrap(lambda: None)
before = [sys.getrefcount(value) for value in (None, True, False)]
for _ in range(300):
    deliver()
    app.processEvents()
after = [sys.getrefcount(value) for value in (None, True, False)]
print(before, after)
sys.exit(0 if all(a >= b - 50 for a, b in zip(after, before)) else 1)
"""


def test_signals_and_event_processing_keep_reference_counts() -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # In a child process: a broken binding may abort the interpreter, which must not take pytest along.
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"the Qt binding corrupts reference counts: {done.stdout}{done.stderr[-400:]}"
