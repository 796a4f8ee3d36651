"""What a method costs: wall seconds and the rise of the process's resident memory high-water mark.

Linux keeps the peak resident size in ``/proc/self/status`` (VmHWM) and resets it to the current
size when ``5`` is written to ``/proc/self/clear_refs``; the rise over the resident size before the
call counts torch's and NumPy's allocations alike. Elsewhere the memory is NaN.
"""
from __future__ import annotations

import time
from typing import Any, Callable


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_high_water() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def measure_cost(call: Callable[[], Any]) -> tuple[Any, float, float]:
    """``call()``'s result, its wall seconds and its peak memory rise in MB (NaN where unknown)."""
    resettable = _reset_high_water()
    before = _status_kb("VmRSS")
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    peak = _status_kb("VmHWM")
    known = resettable and peak is not None and before is not None
    return result, seconds, max(0.0, (peak - before) / 1024) if known else float("nan")
