"""The evaluation set: seeded edits of regions of held-out paintings (or of tuning photographs)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.evaluation.geometry import diagonal, distance_to
from engine.evaluation.regions import find_regions
from engine.evaluation.truth import FAR_FRACTION, LAYOUTS, TrueEdit, layer_edit, stretch_edit, warp_edit
from engine.imageio import load_image

#: Reported groups and the kinds of edit they draw from.
GROUPS = {"affine": ("affine",), "non-rigid": ("nonrigid", "brush"), "moved layer": ("layer",), "growth": ("stretch",)}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp"}
#: A multi-part region's two parts cover at most this fraction of the image together.
MULTI_MAX_FRACTION = 0.25


@dataclass
class EvalEdit:
    painting: str
    group: str
    edit: TrueEdit
    #: Pixels farther than FAR_FRACTION x diagonal from both masks: the truth leaves them as they are.
    far: np.ndarray

    @property
    def image(self) -> np.ndarray:
        return self.edit.image

    @property
    def truth(self) -> np.ndarray:
        return self.edit.truth

    def describe(self) -> dict[str, object]:
        return {"painting": self.painting, "group": self.group, "kind": self.edit.kind, "layout": self.edit.layout,
                "source_pixels": int(self.edit.source_mask.sum()), "target_pixels": int(self.edit.target_mask.sum()),
                "vacated_pixels": int(self.edit.vacated_mask.sum()), "motion_kept": self.edit.kept}


def list_paintings(folder: str | Path) -> list[Path]:
    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"no paintings in {folder}")
    return paths


def far_mask(edit: TrueEdit) -> np.ndarray:
    return distance_to(edit.source_mask | edit.target_mask) > FAR_FRACTION * diagonal(edit.source_mask.shape)


def two_parts(regions: list[np.ndarray], rng: np.random.Generator) -> np.ndarray | None:
    """The union of two separate regions (at least 2 % of the diagonal apart), or None."""
    if len(regions) < 2:
        return None
    gap = 0.02 * diagonal(regions[0].shape)
    pairs = [(a, b) for a in range(len(regions)) for b in range(a + 1, len(regions))]
    for index in rng.permutation(len(pairs)):
        first, second = regions[pairs[index][0]], regions[pairs[index][1]]
        if (first.sum() + second.sum() <= MULTI_MAX_FRACTION * first.size
                and distance_to(first)[second].min() > gap):
            return first | second
    return None


class _Painting:
    """One painting, loaded once, with its candidate regions found on first use."""

    def __init__(self, path: Path, seed: int) -> None:
        self.name = path.stem
        self.pixels = load_image(path).pixels
        if self.pixels.ndim == 2:
            self.pixels = self.pixels[..., None]
        self.seed = seed
        self._regions: dict[bool, list[np.ndarray]] = {}

    def regions(self, border: bool) -> list[np.ndarray]:
        if border not in self._regions:
            self._regions[border] = find_regions(self.pixels, self.seed, border=border)[:5]
        return self._regions[border]

    def region(self, layout: str, rng: np.random.Generator) -> np.ndarray | None:
        if layout == "multi":
            return two_parts(self.regions(False), rng)
        candidates = self.regions(layout == "border")
        return candidates[int(rng.integers(len(candidates)))] if candidates else None


def _draw(kind: str, layout: str, host: _Painting, donor: _Painting, rng: np.random.Generator) -> TrueEdit | None:
    if kind != "layer":
        region = host.region(layout, rng)
        if region is None:
            return None
        return stretch_edit(host.pixels, region, rng, layout) if kind == "stretch" else warp_edit(
            host.pixels, region, rng, kind, layout)
    compatible = donor.pixels.dtype == host.pixels.dtype and donor.pixels.shape[2] == host.pixels.shape[2]
    donor = donor if compatible else host
    cut = donor.region("multi" if layout == "multi" else "single", rng)
    return None if cut is None else layer_edit(host.pixels, donor.pixels, cut, rng, layout)


def build_edits(folder: str | Path, edits_per_group: int, seed: int = 0,
                paintings: list[Path] | None = None) -> list[EvalEdit]:
    """``edits_per_group`` edits of each group, spread round-robin over the paintings and over the
    layouts (one region, one cut by the border, two parts). A moved layer is cut from the next
    painting."""
    paths = paintings or list_paintings(folder)
    rng = np.random.default_rng(seed)
    loaded = [_Painting(path, seed) for path in paths]
    edits: list[EvalEdit] = []
    for group, kinds in GROUPS.items():
        made = attempt = 0
        while made < edits_per_group and attempt < edits_per_group * 30:
            host = loaded[attempt % len(loaded)]
            donor = loaded[(attempt + 1) % len(loaded)]
            attempt += 1
            edit = _draw(kinds[made % len(kinds)], LAYOUTS[made % len(LAYOUTS)], host, donor, rng)
            if edit is None:
                continue
            edit = replace(edit, backward_map=None)  # the truth is all the runner needs; maps are large
            edits.append(EvalEdit(host.name, group, edit, far_mask(edit)))
            made += 1
    return edits
