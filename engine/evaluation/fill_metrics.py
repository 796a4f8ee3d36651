"""Measures of a filled vacated area against the painting that lay underneath.

- texture ratio: mean gradient magnitude of the result over the truth's, inside the vacated area
  (1: as busy as the painting; a blur scores well under 1);
- seam ratio: mean gradient magnitude on the vacated area's outline (away from the object's new
  place), result over truth (1: no visible edge where the fill meets the painting);
- outline left behind / carried and the vacated PSNR of outlined objects, with the definitions of
  the shared remnant probe (``shared/probe/remnant.py``): a pixel of the outline band counts as
  dark below grey 55 and is counted only where the painting underneath is lighter than 70;
- ground carried: the same count in a ring just beyond the object at its new place (from
  ``CARRIED_RING[0]`` to ``CARRIED_RING[1]`` pixels out), against the expected result there: a dark
  ground beside the old outline taken along as a halo (a good move carries ~0 %).
"""
from __future__ import annotations

import cv2
import numpy as np

from engine.evaluation.fill_cases import FillCase
from engine.evaluation.metrics import psnr

DARK, LIGHT = 55, 70
#: The ring searched for a carried halo, in pixels beyond everything the object covers at its new place.
CARRIED_RING = (2, 10)


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2GRAY)


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    grey = _grey(image).astype(np.float32)
    return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))


def _away_from_new_place(case: FillCase) -> np.ndarray:
    return ~(cv2.dilate(case.covered_after.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0)


def texture_ratio(result: np.ndarray, case: FillCase) -> float:
    inner = (cv2.erode(case.vacated.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) & _away_from_new_place(case)
    if not inner.any():
        return float("nan")
    truth = float(gradient_magnitude(case.underneath)[inner].mean())
    return float(gradient_magnitude(result)[inner].mean()) / max(truth, 1e-6)


def seam_ratio(result: np.ndarray, case: FillCase) -> float:
    vacated = case.vacated.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    outline = (cv2.dilate(vacated, kernel) > 0) & ~(cv2.erode(vacated, kernel) > 0) & _away_from_new_place(case)
    if not outline.any():
        return float("nan")
    truth = float(gradient_magnitude(case.underneath)[outline].mean())
    return float(gradient_magnitude(result)[outline].mean()) / max(truth, 1e-6)


def remnant_scores(result: np.ndarray, case: FillCase, selection: np.ndarray) -> dict[str, float]:
    """Outline left behind and carried, the click's IoU with the outlined object, vacated PSNR."""
    away = _away_from_new_place(case)
    grey_result, grey_host = _grey(result), _grey(case.underneath)
    band = case.outline & away & (grey_host > LIGHT)
    left = float((grey_result[band] < DARK).mean()) if band.any() else 0.0
    dx, dy = case.shift
    moved = np.zeros_like(case.outline)
    height, width = moved.shape
    moved[max(0, dy):height + min(0, dy), max(0, dx):width + min(0, dx)] = \
        case.outline[max(0, -dy):height - max(0, dy), max(0, -dx):width - max(0, dx)]
    carried_band = moved & (grey_host > LIGHT)
    carried = float((grey_result[carried_band] < DARK).mean()) if carried_band.any() else 1.0
    beyond = cv2.distanceTransform((~case.covered_after).view(np.uint8), cv2.DIST_L2, 5)
    ring = (beyond > CARRIED_RING[0]) & (beyond <= CARRIED_RING[1]) & ~case.vacated & (_grey(case.truth) > LIGHT)
    ground = float((grey_result[ring] < DARK).mean()) if ring.any() else 0.0
    whole = case.with_outline
    union = np.count_nonzero(selection | whole)
    return {"outline left": left, "outline carried": carried, "ground carried": ground,
            "click IoU": float(np.count_nonzero(selection & whole) / max(union, 1)),
            "PSNR": psnr(result, case.underneath, whole & away)}
