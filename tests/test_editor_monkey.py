"""Random editor sessions (tools/editor_monkey.py): every action in a random order, with the editor's invariants
checked after each (no exception or error dialog, the masks' and painting's size, the Original row, locality of
every Apply, undo/redo giving the paintings back, a reopened session). Three short seeded sessions here; longer ones
by hand (``--steps 250``)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("seed,hurry", [(3, "0"), (12, "0"), (5, "0.7")])
def test_a_random_editor_session_keeps_the_editors_invariants(seed: int, hurry: str, tmp_path: Path) -> None:
    """The third session hurries: most actions start while the last one's work (an Apply, a segmentation, a
    preview) still runs."""
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", TMPDIR=str(tmp_path))
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "editor_monkey.py"), "--seed", str(seed),
                          "--steps", "60", "--hurry", hurry], capture_output=True, text=True, timeout=900, env=environment, cwd=ROOT)
    assert run.returncode == 0 and "nothing failed" in run.stdout, run.stdout[-3000:] + run.stderr[-2000:]
