"""engine.memory: the allocator keeps freed memory, so a second edit does not touch its pages afresh.

Each check runs in a fresh interpreter: the setting lasts for the whole process, and the test run's own
process must keep glibc's defaults (other tests measure its resident memory)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Where glibc puts a 64 MB array (mallinfo2: bytes in fresh mappings, "mapped"; bytes of the heap, "heap") while
#: it lives, and how much heap is left once it is freed.
WHERE_AN_ARRAY_GOES = """
import ctypes, sys
import numpy as np
sys.path.insert(0, {root!r})
from engine.memory import keep_freed_memory
print("kept", keep_freed_memory() if {keep} else False)
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = MallInfo2
array = np.empty(64 << 20, np.uint8)
array.fill(1)
print("mapped", mallinfo2().hblkhd)
del array
print("heap", mallinfo2().arena)
"""


def _glibc_with_mallinfo2() -> bool:
    from engine.memory import glibc

    libc = glibc()
    return libc is not None and hasattr(libc, "mallinfo2")


def _array_goes(keep: bool) -> dict[str, int]:
    words = subprocess.run([sys.executable, "-c", WHERE_AN_ARRAY_GOES.format(root=str(ROOT), keep=keep)],
                           capture_output=True, text=True, check=True).stdout.split()
    return {"kept": int(words[1] == "True"), "mapped": int(words[3]), "heap after": int(words[5])}


@pytest.mark.skipif(not _glibc_with_mallinfo2(),
                    reason="glibc's allocator only (mallinfo2: glibc 2.33 or later)")
def test_a_large_array_comes_from_the_kept_heap() -> None:
    size = 64 << 20
    kept = _array_goes(keep=True)
    assert kept["kept"]
    assert kept["mapped"] < size  # served from the heap...
    assert kept["heap after"] >= size  # ...which keeps it once freed, for the next edit's arrays
    default = _array_goes(keep=False)
    assert not default["kept"]
    assert default["mapped"] >= size  # glibc's default: a fresh mapping, unmapped again when freed
    assert default["heap after"] < size


def test_the_commands_set_it_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed commands run the entry points that keep freed memory (pyproject's scripts), and the
    ``simnet`` entry point sets it before the command runs."""
    import tomllib

    from engine import cli

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["simnet"] == "engine.cli:console_main"
    assert project["gui-scripts"]["simnet-editor"] == "app.main:gui_main"
    order = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: order.append("memory") or True)
    monkeypatch.setattr(cli, "main", lambda argv=None: order.append("command") or 0)
    assert cli.console_main() == 0
    assert order == ["memory", "command"]
