"""Freed memory kept for the next edit instead of handed back to the system (glibc's allocator only).

An edit at 4K allocates and frees a few hundred megabytes of arrays (the painting's crops, the fill's
fields, the matte's distances). glibc serves an allocation over its mmap threshold (128 KB, raised on
the fly only up to 32 MB) with a fresh mapping and unmaps it when it is freed, so every edit touches
the pages of its arrays afresh: 20,000-50,000 page faults an edit, which cost 0.3-1.7 s of system time
on this project's 2-core machine, on top of 0.8 s of work, and vary from one edit to the next. Served
from one heap for every thread (a worker thread's own arena maps its large blocks anyway) and kept
once grown, the pages are touched once per process. The process then keeps its peak heap (the largest
edit's working set) instead of shrinking after each edit; its peak is unchanged. The results are the
same bit for bit. Measured before and after: docs/speed-notes.md, *Freed memory kept*.
"""
from __future__ import annotations

import ctypes
import sys

#: mallopt's parameters (glibc's malloc.h).
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -2, -3, -8
#: Allocations up to this size come from the heap (mallopt takes an int: at most 2**31 - 1).
MMAP_THRESHOLD = 1 << 30
#: The heap is given back to the system only when this much is free at its top...
TRIM_THRESHOLD = (1 << 31) - 1
#: ...and grows by this much more than asked each time, so a growing edit asks the system less often.
TOP_PAD = 256 << 20

SETTINGS = ((M_ARENA_MAX, 1), (M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
            (M_TOP_PAD, TOP_PAD))


def glibc() -> ctypes.CDLL | None:
    """The C library this process runs on when it is glibc (on Linux, found among the symbols already loaded: no
    search, no subprocess); None elsewhere (macOS, Windows, musl, which lacks glibc's ``gnu_get_libc_version``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt") else None


def keep_freed_memory() -> bool:
    """Set glibc's allocator to keep freed memory for reuse (see the module); call it first thing in a
    process, before threads start. True when every setting took; False where there is no glibc
    (nothing is changed there)."""
    libc = glibc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return all(mallopt(option, value) == 1 for option, value in SETTINGS)
