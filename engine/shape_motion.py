"""How the new shape came from the region, when the user made it by moves the editor knows: Transform's
affines and the Warp tool's pins, in order. SIM-Net finds an edit's motion from the two masks alone, which
is all a brush stroke gives; but a Warp drag also says where each pin's paint must go, and a large bend
leaves the masks ambiguous (the content may slide along the outline: on three paintings the paint under the
pins landed up to 16-45 px from them in bends of 100-120 px). So an edit whose new shape was bent by pins follows them
(``engine.manipulator``), and every other edit is found from the masks as before.

:class:`ShapeMotions` remembers the chain per (region, new shape) pair, by the masks' fingerprints, so undo,
redo and a return to an earlier shape find it again, and a brush stroke (a shape no chain made) finds none.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from engine.mask_warp import rigid_mls
from engine.masks import masks_equal, region_hash

#: At most this many (region, new shape) pairs are remembered (the newest).
REMEMBERED = 64

#: The Warp tool's pins: (x, y) image pixels.
PinPoints = tuple[tuple[float, float], ...]


def pins_to_json(pins: PinPoints) -> list[list[float]]:
    return [list(pin) for pin in pins]


def pins_from_json(value: object) -> PinPoints:
    """Pins :func:`pins_to_json` wrote; ValueError when they are not a list of finite x, y points."""
    points = np.asarray(value, np.float64)
    if points.size == 0:
        return ()
    if points.ndim != 2 or points.shape[1] != 2 or not np.isfinite(points).all():
        raise ValueError("pins must be a list of x, y points")
    return tuple(map(tuple, points.tolist()))


@dataclass(frozen=True)
class Affine:
    """A Transform: the forward 2 x 3 matrix carrying the shape (``engine.masks.region_affine``)."""

    matrix: tuple[tuple[float, float, float], tuple[float, float, float]]

    def reads(self, points: np.ndarray) -> np.ndarray:
        forward = np.vstack([np.asarray(self.matrix, np.float64), [0.0, 0.0, 1.0]])
        backward = np.linalg.inv(forward)[:2]
        return points @ backward[:, :2].T + backward[:, 2]


@dataclass(frozen=True)
class Pins:
    """A Warp drag: the pins from where they were to where they went (``engine.mask_warp.pin_warp``)."""

    before: PinPoints
    after: PinPoints

    def reads(self, points: np.ndarray) -> np.ndarray:
        return rigid_mls(points, self.after, self.before)


@dataclass(frozen=True)
class ShapeMotion:
    """The moves, oldest first, that made the new shape from the region (none: the shape is the region)."""

    steps: tuple[Affine | Pins, ...] = ()

    @property
    def bent_by_pins(self) -> bool:
        return any(isinstance(step, Pins) for step in self.steps)

    @property
    def turned_degrees(self) -> float:
        """How far the Transform moves have turned the shape (the rotation of their composed linear part, by its
        polar decomposition); 0 when a Warp bent it or nothing moved it. The Transform tool's handles keep this
        frame, as Free Transform keeps a turned layer's."""
        if self.bent_by_pins:
            return 0.0
        linear = np.eye(2)
        for step in self.steps:
            linear = np.asarray(step.matrix, np.float64)[:, :2] @ linear
        left, _, right = np.linalg.svd(linear)
        rotation = left @ right
        if np.linalg.det(rotation) < 0:  # a mirrored shape (a negative scale): no frame to keep
            return 0.0
        return float(np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0])))

    def then(self, step: Affine | Pins) -> "ShapeMotion":
        return ShapeMotion(self.steps + (step,))

    def to_json(self) -> list[dict]:
        """The moves as plain lists, for a session file."""
        return [{"affine": [list(row) for row in step.matrix]} if isinstance(step, Affine)
                else {"pins_before": pins_to_json(step.before), "pins_after": pins_to_json(step.after)}
                for step in self.steps]

    @classmethod
    def from_json(cls, moves: object) -> "ShapeMotion":
        """The moves :meth:`to_json` wrote; ValueError when they are not such moves."""
        if not isinstance(moves, list):
            raise ValueError("a shape's moves must be a list")
        steps: list[Affine | Pins] = []
        for move in moves:
            if isinstance(move, dict) and "affine" in move:
                matrix = np.asarray(move["affine"], np.float64)
                if matrix.shape != (2, 3) or not np.isfinite(matrix).all() or abs(np.linalg.det(matrix[:, :2])) < 1e-9:
                    raise ValueError(f"not an invertible 2 x 3 affine: {move['affine']!r}")
                steps.append(Affine(tuple(tuple(float(value) for value in row) for row in matrix)))
            elif isinstance(move, dict) and "pins_before" in move and "pins_after" in move:
                before, after = pins_from_json(move["pins_before"]), pins_from_json(move["pins_after"])
                if not before or len(before) != len(after):
                    raise ValueError("a warp's pins must be two equal lists of x, y points")
                steps.append(Pins(before, after))
            else:
                raise ValueError(f"not a Transform or Warp move: {str(move)[:60]}")
        return cls(tuple(steps))

    def reads(self, points: np.ndarray) -> np.ndarray:
        """Where each of ``points`` ((m, 2) x, y pixels of the new shape) was in the region: the moves undone
        newest first."""
        points = np.asarray(points, np.float64)
        for step in reversed(self.steps):
            points = step.reads(points)
        return points

    def grid_motion(self, square: tuple[int, int, int], size: int, scale: float = 1.0) -> np.ndarray:
        """The backward motion (size, size, 2; dx, dy pixels) on the size x size grid over ``square`` (x0, y0,
        side) of an image reduced by ``scale`` from the one the moves were made on, as
        ``engine.manipulator`` holds an edit's motion."""
        x0, y0, side = square
        centres = (np.arange(size, dtype=np.float64) + 0.5) * (side / size) - 0.5
        xs, ys = np.meshgrid(x0 + centres, y0 + centres)
        points = np.stack([xs.ravel(), ys.ravel()], axis=1)
        full = (points + 0.5) / scale - 0.5
        reads = (self.reads(full) + 0.5) * scale - 0.5
        return (reads - points).reshape(size, size, 2).astype(np.float32)


class ShapeMotions:
    """The :class:`ShapeMotion` of each (region, new shape) pair made by known moves (see the module)."""

    def __init__(self) -> None:
        self._known: OrderedDict[tuple[str, str], ShapeMotion] = OrderedDict()
        #: The last masks fingerprinted and their fingerprints: the document replaces its mask arrays and never
        #: changes one in place, so the same array has the same fingerprint (an 8K mask takes ~20 ms to hash).
        self._fingerprints: list[tuple[np.ndarray, str]] = []

    def _fingerprint(self, mask: np.ndarray) -> str:
        for known, fingerprint in self._fingerprints:
            if known is mask:
                return fingerprint
        fingerprint = region_hash(mask)
        self._fingerprints = [(mask, fingerprint)] + self._fingerprints[:3]
        return fingerprint

    def of(self, region: np.ndarray, target: np.ndarray) -> ShapeMotion | None:
        """How ``target`` came from ``region``; None when no known moves made it (a stroke, a mask tool)."""
        if masks_equal(region, target):
            return ShapeMotion()
        key = (self._fingerprint(region), self._fingerprint(target))
        found = self._known.get(key)
        if found is not None:
            self._known.move_to_end(key)
        return found

    def remember(self, region: np.ndarray, target: np.ndarray, motion: ShapeMotion) -> None:
        """``motion`` made ``target`` from ``region`` (a shape reopened from a session)."""
        if not masks_equal(region, target):
            self._known[(self._fingerprint(region), self._fingerprint(target))] = motion
            while len(self._known) > REMEMBERED:
                self._known.popitem(last=False)

    def moved(self, region: np.ndarray, before: np.ndarray, after: np.ndarray, step: Affine | Pins) -> None:
        """The new shape ``before`` was moved by ``step`` into ``after``: remembered when ``before``'s moves
        are known."""
        known = self.of(region, before)
        if known is not None:
            self.remember(region, after, known.then(step))
