"""The segmenter the settings name (a SAM checkpoint, else the built-in one), loaded on first use and
again when the settings change. Each controller that segments on a worker of its own keeps its own
slot: a segmenter holds one image's embedding and is used from one thread at a time. A slot shared by two
workers (the Restyle tool picks on the painting with the selection's segmenter, whose embedding of the
painting is there already) is used under its ``lock``."""
from __future__ import annotations

import threading
from typing import Callable

from app.settings import Settings


class SegmenterSlot:
    def __init__(self, settings: Settings, load: Callable[..., object] | None = None) -> None:
        self.settings = settings
        self._load = load
        self.segmenter = None
        self.key: str | None = None
        #: Held around each use (set_image, then predict) by whoever shares the slot.
        self.lock = threading.RLock()

    def get(self):
        """The segmenter for the current settings (loads it when they changed; call it on the worker)."""
        key = f"{self.settings.sam_checkpoint}|{self.settings.device}"
        if self.segmenter is None or self.key != key:
            load = self._load
            if load is None:
                from engine.segmentation import load_segmenter as load
            self.segmenter = load(self.settings.sam_checkpoint or None, self.settings.device)
            self.key = key
        return self.segmenter

    def put(self, segmenter) -> None:
        """Use ``segmenter`` for the current settings (tests give a stand-in this way)."""
        self.segmenter, self.key = segmenter, f"{self.settings.sam_checkpoint}|{self.settings.device}"
