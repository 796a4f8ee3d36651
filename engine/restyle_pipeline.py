"""File-level restyles shared by ``simnet restyle`` and ``simnet batch``: read and check, restyle, write atomically."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import EditError, MaskError
from engine.imageio import Artwork, load_image, load_mask, save_image
from engine.atomic import same_file
from engine.pipeline import check_output, resolved_path
from engine.restyle import DEFAULT_CORRESPONDENCE, Restyled, prepare_restyle
from engine.restyle_checks import DEFAULT_MIX, check_unit, restyle_notices
from engine.session import Step, make_step


@dataclass(frozen=True)
class FileRestyle:
    """One restyle: an artwork, its region, the exemplar(s) with their regions, and where the result goes."""

    image: Path
    region: Path
    exemplar: Path
    exemplar_region: Path
    output: Path
    strength: float = 1.0
    second_exemplar: Path | None = None
    second_exemplar_region: Path | None = None
    #: The second exemplar's share (None: not given, an even mix when there is a second exemplar).
    mix: float | None = None
    reach: float | None = None

    def reads(self) -> set[Path]:
        paths = {self.image, self.region, self.exemplar, self.exemplar_region, self.second_exemplar,
                 self.second_exemplar_region}
        return {resolved_path(path) for path in paths if path is not None}


@dataclass
class RestyleInputs:
    """Everything a restyle needs, read and checked."""

    artwork: Artwork
    region: np.ndarray
    exemplar: np.ndarray
    exemplar_region: np.ndarray
    second_exemplar: np.ndarray | None
    second_region: np.ndarray | None
    request: FileRestyle


@dataclass
class RestyleOutcome:
    """A restyled image, where it may differ from the input, and how long each stage took."""

    image: np.ndarray
    box: tuple[int, int, int, int]
    reach: float
    timings: dict[str, float] = field(default_factory=dict)
    #: What the user should know about the result (e.g. a grey painting keeps none of the exemplar's colours).
    notes: list[str] = field(default_factory=list)


def _exemplar(path: Path, image_path: Path, artwork: Artwork) -> np.ndarray:
    """The exemplar's pixels (the artwork's own when it is the same file)."""
    return artwork.pixels if same_file(image_path, path) else load_image(path).pixels


def _region(path: Path, shape: tuple[int, int], what: str) -> np.ndarray:
    mask = load_mask(path, shape)
    if not mask.any():
        raise MaskError(f"the {what} {path} is empty (no white pixels)")
    return mask


def read_restyle(request: FileRestyle, *, overwrite_original: bool = False) -> RestyleInputs:
    """Read and check every file of ``request`` before any network is loaded, so bad input fails fast."""
    check_unit(request.strength, "strength")
    if (request.second_exemplar is None) != (request.second_exemplar_region is None):
        raise MaskError("a second exemplar needs its region and a region its exemplar")
    if request.mix is not None:
        check_unit(request.mix, "mix")
        if request.second_exemplar is None:
            raise EditError("a mix needs a second exemplar to mix in (give the second exemplar and its region)")
    check_output(request.image, request.output, overwrite_original, {
        "the region mask": request.region, "the exemplar": request.exemplar,
        "the exemplar region mask": request.exemplar_region, "the second exemplar": request.second_exemplar,
        "the second exemplar's region mask": request.second_exemplar_region})
    artwork = load_image(request.image)
    region = _region(request.region, artwork.pixels.shape[:2], "region mask")
    exemplar = _exemplar(request.exemplar, request.image, artwork)
    exemplar_region = _region(request.exemplar_region, exemplar.shape[:2], "exemplar region mask")
    second = second_region = None
    if request.second_exemplar is not None:
        second = _exemplar(request.second_exemplar, request.image, artwork)
        second_region = _region(request.second_exemplar_region, second.shape[:2], "second exemplar region mask")
    return RestyleInputs(artwork, region, exemplar, exemplar_region, second, second_region, request)


def run_restyle(inputs: RestyleInputs, correspondence: str = DEFAULT_CORRESPONDENCE) -> RestyleOutcome:
    """Restyle what :func:`read_restyle` read (the result is not written yet)."""
    request = inputs.request
    restyled = prepare_restyle(inputs.artwork.pixels, inputs.region, inputs.exemplar, inputs.exemplar_region,
                               second_exemplar=inputs.second_exemplar, second_region=inputs.second_region,
                               mix=DEFAULT_MIX if request.mix is None else request.mix, reach=request.reach,
                               correspondence=correspondence)
    started = time.perf_counter()
    image = restyled.at_strength(request.strength)
    timings = dict(restyled.timings)
    timings["total"] += time.perf_counter() - started
    exemplars = [(inputs.exemplar, inputs.exemplar_region)]
    if inputs.second_exemplar is not None:
        exemplars.append((inputs.second_exemplar, inputs.second_region))
    subjects = [request.exemplar, request.second_exemplar]  # what each note is about: the painting or an exemplar
    notes = [f"{(request.image if which is None else subjects[which]).name}: {notice}"
             for which, notice in restyle_notices(inputs.artwork.pixels, exemplars)]
    return RestyleOutcome(image, restyled.box, restyled.reach, timings, notes)


def write_restyle(inputs: RestyleInputs, outcome: RestyleOutcome) -> None:
    """Write atomically, with the artwork's colour profile and metadata."""
    save_image(inputs.request.output, outcome.image, icc_profile=inputs.artwork.icc_profile,
               exif=inputs.artwork.exif)


def restyle_file(request: FileRestyle, *, overwrite_original: bool = False,
                 correspondence: str = DEFAULT_CORRESPONDENCE) -> RestyleOutcome:
    """Read, restyle and write one artwork; timings add "read" and "write"."""
    started = time.perf_counter()
    inputs = read_restyle(request, overwrite_original=overwrite_original)
    read = time.perf_counter() - started
    outcome = run_restyle(inputs, correspondence)
    started = time.perf_counter()
    write_restyle(inputs, outcome)
    outcome.timings.update(read=read, write=time.perf_counter() - started)
    return outcome


def restyle_step(current: np.ndarray, restyled: Restyled, region: np.ndarray, strength: float,
                 label: str = "Restyle") -> tuple[Step | None, np.ndarray]:
    """The editor's Apply of a restyle: the image at ``strength`` and its one history step (the
    region as both masks, so undo brings the selection back), made off the GUI thread like a
    reshape's (:func:`engine.session.make_step`); the step is None when nothing changed."""
    result = restyled.at_strength(strength)
    timings = dict(restyled.timings, strength=float(strength))
    return make_step(current, result, region, region, label, timings), result
