"""Which torch device a command or the editor runs on: ``auto`` is CUDA when present, else the CPU."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

import torch

from engine.errors import EditError


def auto_device(device: str = "auto") -> str:
    """``device`` with ``auto`` replaced by ``cuda`` when present, else ``cpu``; anything else as given."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_device(device: str = "auto") -> torch.device:
    """The device for ``device`` (auto, cpu or cuda[:N]); a clear error when CUDA is asked for but
    absent, or the name is unknown."""
    device = auto_device(device)
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise EditError("CUDA was asked for but no CUDA device is available; use --device cpu")
    if device != "cpu" and not device.startswith("cuda"):
        raise EditError(f"unknown device {device!r}; use auto, cpu or cuda")
    return torch.device(device)


_threads_lock = threading.Lock()
_single_depth = 0
_saved_threads = 1


@contextmanager
def single_threaded_torch() -> Iterator[None]:
    """Run torch's CPU operators on one thread inside the block (restored after, also when blocks
    in several threads overlap). For many small operators in a row, as the alignment's L-BFGS
    steps on a 256-pixel grid: OpenMP's worker threads gain little there, and when the cores are
    busy with anything else they wait for each other and the same steps take many times longer."""
    global _single_depth, _saved_threads
    with _threads_lock:
        if _single_depth == 0:
            _saved_threads = torch.get_num_threads()
            torch.set_num_threads(1)
        _single_depth += 1
    try:
        yield
    finally:
        with _threads_lock:
            _single_depth -= 1
            if _single_depth == 0:
                torch.set_num_threads(_saved_threads)
