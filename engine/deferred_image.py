"""An artwork whose pixels are still being decoded in another thread.

An edit needs the masks first (the network and the alignment work on them alone) and the pixels
only when it composes the result. ``simnet batch`` and ``simnet edit`` therefore decode the
artwork while the masks are read and the motion is found, and hand the edit this promise of the
pixels instead of the pixels themselves (``engine.pipeline.read_inputs`` with a decoder).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class DeferredImage:
    """Pixels to come: their size now, the (H, W, C) array when :meth:`pixels` is called."""

    #: (height, width) the pixels will have (the masks' size; checked when they arrive).
    shape: tuple[int, int]
    #: Waits for the decode and returns the pixels, or raises the read's error (a SimNetError).
    pixels: Callable[[], np.ndarray]
