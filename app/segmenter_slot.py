"""The segmenter the settings name (a SAM checkpoint, else the built-in one), loaded on first use and
again when the settings change. Each controller that segments on a worker of its own keeps its own
slot: a segmenter holds one image's embedding and is used from one thread at a time. A slot shared by two
workers (the Restyle tool picks on the painting with the selection's segmenter, whose embedding of the
painting is there already) is used under its ``lock``.

A SAM checkpoint that cannot be loaded (missing, truncated, not SAM's) does not leave the artist without
selection: the built-in segmenter is used instead, and :attr:`SegmenterSlot.notice` says why, until the settings
change."""
from __future__ import annotations

import threading

from app.settings import Settings


class SegmenterSlot:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.segmenter = None
        self.key: str | None = None
        #: Why the segmenter in use is not the one the settings ask for ("" when it is).
        self.notice = ""
        #: Held around each use (set_image, then predict) by whoever shares the slot.
        self.lock = threading.RLock()

    def get(self):
        """The segmenter for the current settings (loads it when they changed; call it on the worker)."""
        if self.segmenter is None or self.key != self._settings_key():
            from engine.errors import SegmentationError, one_line
            from engine.segmentation import load_segmenter

            checkpoint = self.settings.sam_checkpoint or None
            try:
                segmenter, notice = load_segmenter(checkpoint, self.settings.device), ""
            except SegmentationError as error:
                if checkpoint is None:
                    raise
                segmenter = load_segmenter(None, self.settings.device)
                notice = (f"{one_line(error)}. Selecting with the built-in segmenter until Edit ▸ Settings names a "
                          "working SAM checkpoint")
            self.segmenter, self.notice = segmenter, notice or segmenter.notice
            self.key = self._settings_key()
        return self.segmenter

    def put(self, segmenter) -> None:
        """Use ``segmenter`` for the current settings (tests give a stand-in this way)."""
        self.segmenter, self.key, self.notice = segmenter, self._settings_key(), ""

    def _settings_key(self) -> str:
        return f"{self.settings.sam_checkpoint}|{self.settings.device}"
