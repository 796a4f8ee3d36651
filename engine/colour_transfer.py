"""Carry one region's colours onto another's: Pitie et al. 2005's iterative distribution transfer over Lab ab.

The restyle uses it to give the region the exemplar's colours while keeping which of its colours differ (a red
mouth on pale skin lands on another of the exemplar's colours than the skin): every colour lands among the
target's own, which a linear map (Reinhard's) does not promise.
"""
from __future__ import annotations

import cv2
import numpy as np

#: Pairs of rotated axes along which the distributions are matched in turn.
COLOUR_ROTATIONS = 6
#: colour_lookup's table: this many colours a side over Lab ab in [-128, 128]; at most COLOUR_SAMPLES colours of
#: each region describe its distribution.
COLOUR_TABLE = 129
COLOUR_SAMPLES = 5_000


def colour_lookup(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Where each colour (Lab ab) lands when the ``source`` colours' distribution is carried onto the ``target``'s,
    as a (COLOUR_TABLE, COLOUR_TABLE, 2) table over ab in [-128, 128]: the iterative distribution transfer of Pitie
    et al. 2005 (quantile matching along COLOUR_ROTATIONS pairs of rotated axes). Unlike a linear map (Reinhard's,
    or the mean-and-covariance one), it lands every colour among the target's own, so a red mouth on a face whose
    exemplar is a blue and yellow sky comes out in one of the sky's colours, apart from the skin's."""
    source = source[:: max(1, len(source) // COLOUR_SAMPLES)].astype(np.float64)
    target = target[:: max(1, len(target) // COLOUR_SAMPLES)].astype(np.float64)
    levels = np.linspace(-128.0, 128.0, COLOUR_TABLE)
    table = np.stack(np.meshgrid(levels, levels, indexing="xy"), -1).reshape(-1, 2)
    for index in range(COLOUR_ROTATIONS):
        angle = np.pi / 2 * index / COLOUR_ROTATIONS
        axes = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
        moved, moved_table, goal = source @ axes.T, table @ axes.T, target @ axes.T
        for axis in range(2):
            knots, landing = _quantile_match(moved[:, axis], goal[:, axis])
            moved[:, axis] = np.interp(moved[:, axis], knots, landing)
            moved_table[:, axis] = np.interp(moved_table[:, axis], knots, landing)
        source, table = moved @ axes, moved_table @ axes
    return table.reshape(COLOUR_TABLE, COLOUR_TABLE, 2).astype(np.float32)


def _quantile_match(values: np.ndarray, goal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots of the 1-D map taking ``values``' distribution onto ``goal``'s: each distinct value lands at the goal's
    quantile of its middle rank, so a value many pixels share (a flat colour) lands in the middle of its share,
    not at one end."""
    knots, counts = np.unique(values, return_counts=True)
    middle_ranks = (np.cumsum(counts) - counts / 2) / len(values)
    ordered = np.sort(goal)
    return knots, np.interp(middle_ranks * (len(ordered) - 1), np.arange(len(ordered)), ordered)


def carry_colour(lookup: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """``ab`` (h, w, 2) through :func:`colour_lookup`'s table."""
    scale = np.float32((COLOUR_TABLE - 1) / 256.0)
    return cv2.remap(lookup, np.ascontiguousarray((ab[..., 0] + 128) * scale),
                     np.ascontiguousarray((ab[..., 1] + 128) * scale), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
