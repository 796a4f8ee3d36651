"""A boolean mask kept small: bit-packed and compressed (a 4K mask takes a few kB)."""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PackedMask:
    """A boolean mask, bit-packed and compressed."""

    data: bytes
    shape: tuple[int, int]

    @classmethod
    def pack(cls, mask: np.ndarray) -> "PackedMask":
        return cls(zlib.compress(np.packbits(mask).tobytes(), 1), (int(mask.shape[0]), int(mask.shape[1])))

    def unpack(self) -> np.ndarray:
        count = self.shape[0] * self.shape[1]
        bits = np.unpackbits(np.frombuffer(zlib.decompress(self.data), np.uint8))[:count]
        return bits.reshape(self.shape).astype(bool)
