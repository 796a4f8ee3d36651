"""Held-out evaluation edits: seeded synthetic edits of regions of the test paintings."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.evaluation.regions import find_regions
from engine.imageio import load_image
from models.deformation import SyntheticEdit, identity_map, make_synthetic_edit, warp_with_map

#: Reported groups and the generator kinds they draw from (issue 7: affine vs non-rigid).
GROUPS = {"affine": ("affine",), "non-rigid": ("nonrigid", "brush")}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp"}


@dataclass
class EvalEdit:
    painting: str
    group: str
    image: np.ndarray
    edit: SyntheticEdit
    truth: np.ndarray
    edited_area: np.ndarray


def list_paintings(folder: str | Path) -> list[Path]:
    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"no paintings in {folder}")
    return paths


def _usable(edit: SyntheticEdit) -> bool:
    target = edit.target_mask
    inside = not (target[0].any() or target[-1].any() or target[:, 0].any() or target[:, -1].any())
    return inside and target.sum() >= 0.4 * edit.source_mask.sum()


def build_edits(folder: str | Path, edits_per_group: int, seed: int = 0,
                paintings: list[Path] | None = None) -> list[EvalEdit]:
    """``edits_per_group`` edits of each group, spread round-robin over the paintings."""
    paths = paintings or list_paintings(folder)
    rng = np.random.default_rng(seed)
    loaded = {path: load_image(path).pixels for path in paths}
    regions = {path: find_regions(loaded[path], seed) for path in paths}
    usable_paths = [path for path in paths if regions[path]]
    edits: list[EvalEdit] = []
    for group, kinds in GROUPS.items():
        made = 0
        attempt = 0
        while made < edits_per_group and attempt < edits_per_group * 20:
            path = usable_paths[attempt % len(usable_paths)]
            attempt += 1
            candidates = regions[path][:4]
            region = candidates[int(rng.integers(len(candidates)))]
            kind = kinds[made % len(kinds)]
            edit = make_synthetic_edit(region, rng, kind)
            if not _usable(edit):
                continue
            image = loaded[path]
            truth = warp_with_map(image, edit.backward_map)
            moved = np.abs(edit.backward_map - identity_map(*region.shape)).max(axis=2) > 0.01
            area = moved | edit.source_mask | edit.target_mask
            edits.append(EvalEdit(path.stem, group, image, edit, truth, area))
            made += 1
    return edits
