"""Restyle a region in the style of an exemplar region, at full resolution, with the exemplar's own pixels.

1. **Match, reduced.** The region's box and the exemplar region's box are reduced by one common
   factor (the larger box to at most :data:`WORK_SIDE` pixels a side, less for a small exemplar:
   :func:`working_factor`) and described cell by cell
   (:mod:`models.restyle.features`: backbone features + tone); every cell of the region's box
   is matched to an exemplar cell (:mod:`models.restyle.correspondence`, full, masked or bi-level
   attention, then made coherent).
2. **Carry the exemplar's pixels, full resolution.** Each cell copies the exemplar's patch at its
   match, at the exemplar's own scale (a translation: its brush strokes are copied, not resampled);
   neighbouring cells' patches blend across the cell, keeping the detail's variance (no faded
   seams, no straight edges). Cells that share a shifted match (most, after the coherence step) copy one continuous
   piece of the exemplar; each piece is shifted by up to half a cell, so that an exemplar cell
   copied many times over does not repeat in step with the cells' lattice. A copy counts only where
   it reads the exemplar region (:func:`exemplar_layers`): nothing beyond its outline is copied.
3. **Keep the region's structure.** In CIE Lab, the copied lightness is corrected by the region's
   own light-and-dark layout, its tones mapped onto the exemplar's (quantile matching), through a
   guided filter steered by the region's lightness (He et al. 2010): the correction follows the
   region's strong edges but is smooth across its weak ones, so edges and the layout stay while
   the fine texture (brushwork) and the colours are the exemplar's.
4. **Locality and strength.** The styled box is blended in with weight ``strength * w`` where w
   is 1 on the region and falls smoothly to 0 at ``reach`` pixels from it (engine.locality's
   conventions), outside the region only as far as its colour continues the region's
   (:mod:`engine.restyle_transition`); every pixel farther away is the input, bit for bit.

The full-resolution steps run in strips of rows, so memory stays bounded on 8K paintings.
"""
from __future__ import annotations

import functools
import os
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

from engine.colour_transfer import carry_colour, colour_lookup
from engine.errors import CheckpointError, EditError, MaskError
from engine.imageio import to_float_rgb
from engine.locality import box_within_reach, resolve_reach
from engine.restyle_checks import DEFAULT_MIX, check_image, check_unit
from engine.restyle_transition import transition_weight
from engine.smoothing import coarse_blur
from engine.masks import check_mask
from models.influence import mask_bbox
from models.restyle.correspondence import METHODS, correspond
from models.restyle.features import CELL, RestyleBackbone, cell_coverage, descriptors

#: The larger of the two boxes is reduced to at most this many pixels a side for matching...
WORK_SIDE = 256
#: ...unless that leaves an exemplar region's box under MIN_EXEMPLAR_SIDE working pixels on its longer side (a
#: 200 px patch of sky restyling an 8K sky kept 2 cells to copy from, each repeated hundreds of times in blocks);
#: then less, but never so little that the region's box is over MAX_REGION_SIDE (the matching's cost).
MIN_EXEMPLAR_SIDE, MAX_REGION_SIDE = 64, 1024
#: The default correspondence (the fastest that scores as well as full attention; README table).
DEFAULT_CORRESPONDENCE = "bilevel"
#: Weight of the cell's tone beside its (unit) backbone features in the descriptor.
TONE_WEIGHT = 1.0
#: Weight of the cell's place in its region (RABIT's position encoding) in the descriptor.
POSITION_WEIGHT = 0.0
#: Exemplar cells usable as matches: at least this share inside the exemplar region.
KEY_COVERAGE = 0.75
#: Neighbouring patches blend over this share of a cell around their common border. Over the whole cell no copy
#: keeps a flat middle that changes to its neighbour within a few pixels (a lattice of straight edges); the mix
#: keeps the detail's variance (_blend_variance), so it does not fade either. On 16 BSDS500 val pairs 0.5 -> 1:
#: style loss 462 -> 444, texture relevance 0.977 -> 0.980, content distance 0.1879 -> 0.1883.
SEAM_SHARE = 1.0
#: Guided filter: radius in cells, and the lightness deviation (Lab L units) above which an edge
#: of the region counts as structure and is kept.
GUIDE_RADIUS_CELLS = 1.0
EDGE_DEVIATION = 40.0
#: The guided filter's coefficients are found on the box reduced until the radius spans this many pixels, and
#: read back bilinearly at full resolution (He and Sun 2015's fast guided filter: the coefficients are smooth over
#: the radius, so little is lost; an 8K box's radius is 120 px). Smaller radii are filtered as they are.
GUIDE_REDUCED_RADIUS = 16
#: The patches' lightness and colour finer than this (Gaussian sigma, in cells) is their detail, kept
#: as it is; their colour is smoothed at the coarser scale so that cell seams do not show.
DETAIL_CELLS = 0.75
COLOUR_CELLS = 2.0
#: Where the region's lightness changes by STRUCTURE_EDGE (Lab L) over a cell at the scale of STRUCTURE_CELLS
#: cells, up to STRUCTURE_KEEP of its own lightness is kept there in place of the exemplar's brushwork.
STRUCTURE_KEEP, STRUCTURE_CELLS, STRUCTURE_EDGE = 1.0, 1.0, 20.0
#: Where the region's colour (carried onto the exemplar's colours, Lab ab) changes by COLOUR_EDGE over a cell at
#: the same scale (a red mouth on pale skin, of nearly the same lightness), up to STRUCTURE_KEEP of its own
#: lightness and its carried colour are kept there (the colours carried by engine.colour_transfer).
COLOUR_EDGE = 15.0
#: A copy's pixel counts fully from this many cells inside the exemplar region, none on its outline; where none of
#: a pixel's copies reads the region, there is no detail (OUTSIDE_WEIGHT keeps the sum of weights above 0).
INSIDE_CELLS, OUTSIDE_WEIGHT = 0.25, 1e-3
#: Each piece of copies is shifted by up to this many cells each way, from a generator of this seed (_jitter).
JITTER, JITTER_SEED = 0.5, 0
#: Keep the copies' detail as strong where cells meet as within a cell (see _blend_variance).
VARIANCE_PRESERVING = True
#: The region's box is styled in strips of at least this many rows, or this many pixels (bounded memory).
STRIP_ROWS = 64
STRIP_PIXELS = 1_000_000
#: Strips styled at the same time (NumPy and OpenCV let go of the GIL; each strip holds about 0.1 GB).
STRIP_WORKERS = max(1, min(4, os.cpu_count() or 1))
QUANTILES = 129

Box = tuple[int, int, int, int]


#: The backbone's blocks with their batch norms folded, in resources/ (tools/export_restyle_backbone.py).
BACKBONE_WEIGHTS = "restyle_lite0.npz"


@functools.lru_cache(maxsize=1)
def restyle_backbone() -> RestyleBackbone:
    """The frozen feature network (NumPy: the restyle never imports torch), loaded once per process."""
    where = f"resources/{BACKBONE_WEIGHTS}"
    try:
        with resources.files("resources").joinpath(BACKBONE_WEIGHTS).open("rb") as file:
            return load_backbone(file, where)
    except OSError as error:
        raise CheckpointError(f"the restyle's backbone weights {where} cannot be read ({error.strerror or error}); "
                              "reinstall SIM-Net Studio") from None


def load_backbone(source: str | Path | BinaryIO, where: str) -> RestyleBackbone:
    """The backbone from an ``.npz`` of folded weights; a clear :class:`CheckpointError` naming ``where``
    when the file is not such an archive or its weights do not fit the network (checked by one tiny
    forward pass here, not in the middle of a restyle)."""
    try:
        archive = np.load(source, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("one array, not an archive")
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        raise CheckpointError(f"the restyle's backbone weights {where} are damaged: not a NumPy .npz archive; "
                              "reinstall SIM-Net Studio") from None
    try:
        with archive as weights:
            backbone = RestyleBackbone({name: np.asarray(weights[name]) for name in weights.files})
        backbone(np.zeros((16, 16, 3), np.float32))
    except (OSError, ValueError, KeyError, EOFError, IndexError, TypeError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"the restyle's backbone weights {where} do not fit the network "
                              f"({type(error).__name__}: {error}); reinstall SIM-Net Studio") from None
    return backbone


@dataclass
class Restyled:
    """A restyle computed once and applied at any strength (the editor's slider) without recomputing.

    ``styled`` holds the box at strength 1 (the input's dtype and channels); ``weight`` is 1 on
    the region, falling to 0 at the reach; pixels where it is 0 are never changed.
    """

    image: np.ndarray
    box: Box
    styled: np.ndarray
    weight: np.ndarray
    reach: float
    timings: dict[str, float] = field(default_factory=dict)
    peak_bytes: int = 0

    def at_strength(self, strength: float) -> np.ndarray:
        """The whole image restyled at ``strength`` in [0, 1] (0: the input itself)."""
        strength = check_unit(strength, "strength")
        out = self.image.copy()
        x0, y0, x1, y1 = self.box
        if strength == 0.0 or x1 <= x0 or y1 <= y0:
            return out
        out[y0:y1, x0:x1] = self.box_at_strength(strength)
        return out

    def box_at_strength(self, strength: float) -> np.ndarray:
        """Only the box's pixels at ``strength`` (what the editor's preview redraws)."""
        x0, y0, x1, y1 = self.box
        before = self.image[y0:y1, x0:x1]
        out = np.empty_like(before)  # every strip written below
        top = np.iinfo(before.dtype).max
        rows = max(1, STRIP_PIXELS // max(1, x1 - x0))
        for start in range(0, y1 - y0, rows):  # in strips: no box-sized float arrays
            part = slice(start, start + rows)
            alpha = np.float32(strength) * self.weight[part]
            if before.dtype == np.uint8:  # OpenCV's per-pixel blend: 5x NumPy's (an 8K sky's slider step 0.85 s)
                blended = cv2.blendLinear(self.styled[part], before[part], alpha, np.float32(1.0) - alpha)
                out[part] = blended.reshape(out[part].shape)  # (a grey image's channel axis back)
                continue
            alpha = alpha[..., None]
            was = before[part].astype(np.float32)
            mixed = np.clip(np.rint(was + alpha * (self.styled[part].astype(np.float32) - was)), 0, top)
            out[part] = np.where(alpha > 0, mixed.astype(before.dtype), before[part])
        return out


@dataclass
class _Plan:
    """How one exemplar styles the region's box: each cell's offset into the exemplar and the tone map."""

    exemplar: np.ndarray  # (h, w, 4) the exemplar crop's layers, where the patches come from (exemplar_layers)
    colour: np.ndarray  # (gh, gw, 2) the coarse Lab colour each cell's copy brings, smoothed over cells
    crop: Box  # that crop in the exemplar (x0, y0, x1, y1)
    offsets: np.ndarray  # (gh, gw, 2) full-resolution (dx, dy) from a box pixel to its exemplar pixel
    tone_from: np.ndarray  # quantiles of the region's lightness ...
    tone_to: np.ndarray  # ... and the exemplar region's
    peak_bytes: int
    pieces: np.ndarray  # (gh, gw) int32: cells with the same number copy with the same offset (one piece)
    keep: np.ndarray  # (working h, w, 2) how much of the region's own lightness and carried colour is kept
    colour_lookup: np.ndarray  # (COLOUR_TABLE, COLOUR_TABLE, 2) the region's ab carried onto the exemplar's


def _reduced(pixels: np.ndarray, mask: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """The crop (the image's own pixels) reduced by ``factor``, as float RGB, and padded
    (edge-replicated) to whole 8-pixel steps."""
    height, width = mask.shape
    size = (max(CELL, round(width / factor)), max(CELL, round(height / factor)))
    pixels = pixels if pixels.ndim == 3 else pixels[..., None]
    small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA) if factor > 1 else pixels
    small = to_float_rgb(small)
    small_mask = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) if factor > 1 \
        else mask.astype(np.float32)
    pad_y, pad_x = (-small.shape[0]) % 8, (-small.shape[1]) % 8
    small = cv2.copyMakeBorder(small, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
    small_mask = cv2.copyMakeBorder(small_mask, 0, pad_y, 0, pad_x, cv2.BORDER_CONSTANT, value=0)
    return small, small_mask


def _quantiles(values: np.ndarray) -> np.ndarray:
    return np.quantile(values, np.linspace(0.0, 1.0, QUANTILES)).astype(np.float32)


def _plan(region_pixels: np.ndarray, region_mask: np.ndarray, exemplar: np.ndarray,
          exemplar_mask: np.ndarray, factor: float, method: str) -> _Plan:
    ex_box = mask_bbox(exemplar_mask)
    assert ex_box is not None
    ex0, ey0, ex1, ey1 = ex_box
    small_region, small_region_mask = _reduced(region_pixels, region_mask, factor)
    small_exemplar, small_exemplar_mask = _reduced(exemplar[ey0:ey1, ex0:ex1], exemplar_mask[ey0:ey1, ex0:ex1],
                                                   factor)

    region_lab = cv2.cvtColor(small_region, cv2.COLOR_RGB2Lab)
    exemplar_lab = cv2.cvtColor(small_exemplar, cv2.COLOR_RGB2Lab)
    region_light, exemplar_light = region_lab[..., 0], exemplar_lab[..., 0]
    region_inside, exemplar_inside = _inside(small_region_mask), _inside(small_exemplar_mask)
    tone_from, tone_to = _quantiles(region_light[region_inside]), _quantiles(exemplar_light[exemplar_inside])
    ranks = np.linspace(-1.0, 1.0, QUANTILES, dtype=np.float32)

    network = restyle_backbone()
    region_features, exemplar_features = _cell_features(network, small_region), _cell_features(network, small_exemplar)
    grid, key_grid = region_features.shape[:2], exemplar_features.shape[:2]

    def cell_tone(light: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """The cell's lightness as its rank among the exemplar region's, from -1 to 1: bounded, so a
        rare extreme tone (a highlight) does not outweigh the features, and equally spread in both
        regions, so the region's brightest cells take as large a share of the exemplar's."""
        cells = cv2.resize(light, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        return np.interp(cells, tone_to, ranks).astype(np.float32)

    region_cell_light = np.interp(region_light, tone_from, tone_to).astype(np.float32)
    region_cover = cell_coverage(small_region_mask, grid)
    exemplar_cover = cell_coverage(small_exemplar_mask, key_grid)
    query = descriptors(region_features, cell_tone(region_cell_light, grid), region_cover, TONE_WEIGHT,
                        POSITION_WEIGHT)
    keys_all = descriptors(exemplar_features, cell_tone(exemplar_light, key_grid), exemplar_cover, TONE_WEIGHT,
                           POSITION_WEIGHT)
    key_cells = exemplar_cover >= KEY_COVERAGE
    if not key_cells.any():
        key_cells = exemplar_cover >= exemplar_cover.max()
    query_cells = np.ones(grid, bool)
    marks = exemplar_marks(exemplar_lab, exemplar_cover, key_cells)
    positions, peak = correspond(method, query, keys_all[key_cells.reshape(-1)], query_cells, key_cells,
                                 marks[key_cells])

    step = factor * CELL  # full-resolution pixels per cell, the same in both images
    positions = positions.reshape(grid)
    key_y, key_x = np.divmod(positions, key_grid[1])
    cell_y, cell_x = np.mgrid[0:grid[0], 0:grid[1]]
    # A box pixel at cell (cy, cx) shows the exemplar pixel at the same place in cell (ky, kx).
    offsets = np.stack([(key_x - cell_x) * step + ex0, (key_y - cell_y) * step + ey0], axis=-1).astype(np.float32)
    # Cells that copy with one offset copy one continuous piece of the exemplar.
    pieces = np.unique(offsets.reshape(-1, 2), axis=0, return_inverse=True)[1].reshape(grid).astype(np.int32)
    if JITTER > 0:
        offsets += _jitter(pieces, key_y, key_x, small_exemplar_mask) * np.float32(factor)
    margin = int(np.ceil(2 * step))
    height, width = exemplar.shape[:2]
    crop = (max(0, ex0 - margin), max(0, ey0 - margin), min(width, ex1 + margin), min(height, ey1 + margin))
    cx0, cy0, cx1, cy1 = crop
    offsets -= np.array([cx0, cy0], np.float32)
    detail, coarse = exemplar_layers(to_float_rgb(exemplar[cy0:cy1, cx0:cx1]), exemplar_mask[cy0:cy1, cx0:cx1], step)
    # The coarse colour each cell's copy brings, read at the cell's centre, smoothed over the grid.
    # (Within the exemplar region's box: beyond it the coarse colour is made up.)
    centre_x = np.clip(cell_x * step + step / 2 + offsets[..., 0], ex0 - cx0, ex1 - cx0 - 1).astype(np.float32)
    centre_y = np.clip(cell_y * step + step / 2 + offsets[..., 1], ey0 - cy0, ey1 - cy0 - 1).astype(np.float32)
    colour = cv2.remap(coarse, centre_x, centre_y, cv2.INTER_LINEAR)
    colour = cv2.GaussianBlur(colour, (0, 0), COLOUR_CELLS, borderType=cv2.BORDER_REPLICATE)
    region_ab = region_lab[..., 1:]
    lookup = colour_lookup(region_ab[region_inside], exemplar_lab[..., 1:][exemplar_inside])
    keep = structure_keep(region_cell_light, carry_colour(lookup, region_ab))
    return _Plan(detail, colour, crop, offsets, tone_from, tone_to, peak, pieces, keep, lookup)


#: An exemplar cell is a mark (a star in a sky: copied once, see models.restyle.correspondence.single_marks) where
#: its colour differs from the mean of the exemplar region's cells within MARK_RING cells of it by more than
#: MARK_CONTRAST (CIE Lab units) and by more than all but MARK_SHARE of the exemplar's cells do.
MARK_RING, MARK_CONTRAST, MARK_SHARE = 3, 45.0, 0.03


def exemplar_marks(exemplar_lab: np.ndarray, cover: np.ndarray, key_cells: np.ndarray) -> np.ndarray:
    """(gh, gw) the exemplar's marks among ``key_cells``: cells whose colour stands out from the region around them
    (``exemplar_lab`` the working exemplar in Lab, ``cover`` each cell's share inside the exemplar region)."""
    if not key_cells.any():
        return np.zeros_like(key_cells)
    grid_h, grid_w = cover.shape
    cells = cv2.resize(exemplar_lab, (grid_w, grid_h), interpolation=cv2.INTER_AREA)
    size = 2 * MARK_RING + 1
    weight = cover.astype(np.float32)
    total = cv2.boxFilter(cells * weight[..., None], -1, (size, size), normalize=False,
                          borderType=cv2.BORDER_CONSTANT) - cells * weight[..., None]
    count = cv2.boxFilter(weight, -1, (size, size), normalize=False, borderType=cv2.BORDER_CONSTANT) - weight
    ring = total / np.maximum(count, np.float32(1e-6))[..., None]
    contrast = np.linalg.norm(cells - ring, axis=-1)
    contrast[count < 1.0] = 0.0
    threshold = max(MARK_CONTRAST, float(np.quantile(contrast[key_cells], 1.0 - MARK_SHARE)))
    strong = key_cells & (contrast > threshold)
    # A mark's edge cells stand out less (part mark, part ground): those next to one, above half the contrast.
    near = cv2.dilate(strong.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return strong | (key_cells & near & (contrast > threshold / 2))


#: Working pixels of mirrored context around a box before its features are taken (a multiple of 8).
FEATURE_CONTEXT = 48


def _cell_features(network: RestyleBackbone, small: np.ndarray) -> np.ndarray:
    """The backbone's features of a working box, taken with the box mirrored around it: on the zero padding of
    its convolutions, the cells along both boxes' edges look alike and matched each other (a flat region's
    edge took the exemplar's edge, a strip of other strokes along the region's side)."""
    pad = FEATURE_CONTEXT
    if pad <= 0:
        return network(small)
    mirrored = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    cells = pad // CELL
    return network(mirrored)[cells:-cells, cells:-cells]


def _inside(small_mask: np.ndarray) -> np.ndarray:
    """The reduced region's pixels that describe it: those at least half inside, or any inside if none is."""
    return small_mask >= 0.5 if (small_mask >= 0.5).any() else small_mask > 0


def _edge_strength(values: np.ndarray, edge: float) -> np.ndarray:
    """0-1: how strongly ``values`` (h, w, channels) change over a cell at the scale of STRUCTURE_CELLS cells,
    ``edge`` being full strength."""
    smooth = cv2.GaussianBlur(values, (0, 0), STRUCTURE_CELLS * CELL).reshape(*values.shape[:2], -1)
    squared = sum(cv2.Sobel(smooth[..., channel], cv2.CV_32F, 1 - direction, direction, ksize=3) ** 2
                  for channel in range(smooth.shape[2]) for direction in (0, 1))
    return np.clip(np.sqrt(squared) / 8 * CELL / edge, 0.0, 1.0)


def structure_keep(light: np.ndarray, carried_ab: np.ndarray) -> np.ndarray:
    """(h, w, 2): how much of the region's own lightness (``light``: on the exemplar's tones, at working
    resolution, CELL pixels a cell) and of its own colour (``carried_ab``: carried onto the exemplar's colours)
    is kept in place of the exemplar's brushwork and colour: where the region draws a feature (an eye, a brow,
    a mouth: an edge at the scale of cells, not a brush stroke within one). Lightness is kept at lightness and
    colour edges, colour at colour edges. Smooth maps, so they are made once on the working grid and read at full
    resolution."""
    if STRUCTURE_KEEP <= 0:
        return np.zeros((*light.shape, 2), np.float32)
    colour_edges = _edge_strength(carried_ab, COLOUR_EDGE)
    keep = STRUCTURE_KEEP * np.stack([np.maximum(_edge_strength(light, STRUCTURE_EDGE), colour_edges),
                                      colour_edges], axis=-1)
    return cv2.GaussianBlur(keep.astype(np.float32), (0, 0), 0.5 * CELL)


def _jitter(pieces: np.ndarray, key_y: np.ndarray, key_x: np.ndarray, exemplar_mask: np.ndarray) -> np.ndarray:
    """A shift (working pixels, (gh, gw, 2) as x, y) for each cell's copy, the same for all cells of one piece
    (``pieces``: cells that copy with the same offset; a continuous piece of the exemplar stays whole) and
    drawn anew for each other piece, up to JITTER cells each way. A small exemplar serves a large region many times over; copied cell-aligned, each
    re-use of an exemplar cell lands at the same place in its cell, and the repeats line up into a visible
    lattice. Shifted copies keep the pieces but not the lattice. A shift that would take a copy's cell under
    KEY_COVERAGE of the exemplar region (at its border) is not made."""
    piece = pieces.reshape(-1)
    rng = np.random.default_rng(JITTER_SEED)
    shift = np.rint(rng.uniform(-JITTER, JITTER, (piece.max() + 1, 2)) * CELL).astype(np.int64)
    # Each copy's cell in the exemplar, shifted: its coverage by the region, from a summed-area table.
    table = cv2.integral(np.ascontiguousarray(exemplar_mask, dtype=np.float32).astype(np.float64))
    height, width = exemplar_mask.shape
    x0 = np.clip(key_x.reshape(-1) * CELL + shift[piece, 0], 0, width - CELL)
    y0 = np.clip(key_y.reshape(-1) * CELL + shift[piece, 1], 0, height - CELL)
    cover = (table[y0 + CELL, x0 + CELL] - table[y0, x0 + CELL] - table[y0 + CELL, x0] + table[y0, x0]) / CELL ** 2
    exact = (x0 == key_x.reshape(-1) * CELL + shift[piece, 0]) & (y0 == key_y.reshape(-1) * CELL + shift[piece, 1])
    fits = np.ones(shift.shape[0], bool)
    np.logical_and.at(fits, piece, (cover >= KEY_COVERAGE) & exact)
    shift[~fits] = 0
    return shift[piece].reshape(pieces.shape + (2,)).astype(np.float32)


def exemplar_layers(rgb: np.ndarray, region: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """The exemplar split where it is whole, before any patch is cut: (H, W, 4) float32 of its Lab lightness
    and colour finer than :data:`DETAIL_CELLS` cells (its brushwork), premultiplied by how far each pixel is
    inside ``region``, and that share (0 on and beyond its outline and the image's edge, 1 from INSIDE_CELLS cells
    in); and (H, W, 2) its colour coarser than that. Cut into patches afterwards, the layers carry no seam of
    their own. The coarse colour is the region's own (a normalised convolution, Knutsson and Westin 1993): a
    sky's detail next to a dark frame is the sky's, not the step from sky to frame; and a region is styled the
    same whatever lies beyond it, the painting or nothing."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)
    weight = region.astype(np.float32)
    sigma = DETAIL_CELLS * step
    moments = coarse_blur(np.dstack([lab * weight[..., None], weight]), sigma, border=cv2.BORDER_CONSTANT)
    share = moments[..., 3:]
    # Far from the region (where no copy counts), its mean.
    coarse = np.where(share > 1e-3, moments[..., :3] / np.maximum(share, 1e-3), lab[region].mean(axis=0))
    soft = cv2.GaussianBlur(weight, (0, 0), max(0.5, INSIDE_CELLS * step / 2), borderType=cv2.BORDER_CONSTANT)
    inside = np.clip(2.0 * soft - 1.0, 0.0, 1.0)
    return np.dstack([(lab - coarse) * inside[..., None], inside]).astype(np.float32), \
        np.ascontiguousarray(coarse[..., 1:])


def _seam_weights(coordinate: np.ndarray, cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For pixel positions in cell units: the lower neighbouring cell, the upper one and the upper's weight."""
    centred = coordinate - 0.5
    lower = np.floor(centred)
    fraction = centred - lower
    ramp = np.clip((fraction - 0.5) / SEAM_SHARE + 0.5, 0.0, 1.0)
    weight = (ramp * ramp * (3.0 - 2.0 * ramp)).astype(np.float32)
    lower = lower.astype(np.int64)
    return np.clip(lower, 0, cells - 1), np.clip(lower + 1, 0, cells - 1), weight


def _box_filter(values: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(values, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def guided_coefficients(guide: np.ndarray, source: np.ndarray, radius: int, eps: float
                        ) -> tuple[np.ndarray, np.ndarray]:
    """He et al.'s guided filter (ECCV 2010, Eqs. 7-8) as its mean coefficients (a, b): the filtered ``source``
    is ``a * guide + b``, ``source`` smoothed but following the edges of ``guide``."""
    mean_guide, mean_source = _box_filter(guide, radius), _box_filter(source, radius)
    covariance = _box_filter(guide * source, radius) - mean_guide * mean_source
    variance = _box_filter(guide * guide, radius) - mean_guide * mean_guide
    a = covariance / (variance + np.float32(eps))
    b = mean_source - a * mean_guide
    return _box_filter(a, radius), _box_filter(b, radius)


@dataclass
class _BaseLight:
    """The region's light-and-dark layout on one plan's tones, as the guided filter's coefficients found on the
    box reduced (:data:`GUIDE_REDUCED_RADIUS`): the base lightness of a box pixel is ``a * L + b`` with a and b
    read bilinearly where it lies and L its own lightness. Found for the whole box at once, so the strips need
    no rows around them for the filter (He and Sun 2015's fast guided filter)."""

    a: np.ndarray
    b: np.ndarray
    scale: tuple[float, float]  # reduced pixels a full-resolution pixel, x and y

    def at(self, light: np.ndarray, first_row: int) -> np.ndarray:
        """The base lightness of the box's rows from ``first_row`` on, whose own lightness is ``light``."""
        scale_x, scale_y = self.scale
        where = (self.scale, 0.5 * scale_x - 0.5, (first_row + 0.5) * scale_y - 0.5, (light.shape[1], light.shape[0]))
        return _scaled(self.a, *where) * light + _scaled(self.b, *where)


def _base_lights(region_pixels: np.ndarray, plans: list[_Plan], radius: int) -> list[_BaseLight]:
    """Each plan's :class:`_BaseLight` for the box ``region_pixels``."""
    height, width = region_pixels.shape[:2]
    shrink = max(1.0, radius / GUIDE_REDUCED_RADIUS)
    size = (max(1, round(width / shrink)), max(1, round(height / shrink)))
    pixels = region_pixels if region_pixels.ndim == 3 else region_pixels[..., None]
    small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA) if shrink > 1 else pixels
    light = cv2.cvtColor(to_float_rgb(small.reshape(size[1], size[0], -1)), cv2.COLOR_RGB2Lab)[..., 0]
    reduced_radius = max(1, int(round(radius / shrink)))
    scale = (size[0] / width, size[1] / height)
    return [_BaseLight(*guided_coefficients(light, _tone_lookup(light, plan.tone_from, plan.tone_to),
                                            reduced_radius, EDGE_DEVIATION ** 2), scale) for plan in plans]


def _blend_variance(copies: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """The variance of the copies' weighted sum, in units of one copy's: the sum over pairs of copies of their
    weights' product where they read the same place (one copy, counted whole) and 0 where they read different
    places (unrelated detail). The weights need not sum to 1: the sum divided by this variance's square root is
    the normalised blend divided by its own. Dividing the blend so keeps the detail
    as strong where cells meet as within a cell (Heitz and Neyret 2018's variance-preserving blending):
    a plain mix of unrelated copies halves the detail's variance at each seam and quarters it at each
    corner, and the cells' lattice shows as a grid of faded stripes."""
    variance = np.zeros(copies[0][1].shape, np.float32)
    for first, (piece, weight) in enumerate(copies):
        variance += weight * weight
        for other_piece, other_weight in copies[first + 1:]:
            variance += np.float32(2.0) * weight * other_weight * (piece == other_piece)  # the same place read
    return variance


def _spread(cells: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``cells[rows[:, None], columns[None, :]]`` for sorted index runs, by repeating (much faster)."""
    row_ids, row_counts = np.unique(rows, return_counts=True)
    column_ids, column_counts = np.unique(columns, return_counts=True)
    return np.repeat(np.repeat(cells[row_ids][:, column_ids], row_counts, axis=0), column_counts, axis=1)


#: Lightness levels of the tone map's look-up table (Lab L runs from 0 to 100).
TONE_LEVELS = 4096


def _tone_lookup(light: np.ndarray, tone_from: np.ndarray, tone_to: np.ndarray) -> np.ndarray:
    """``np.interp(light, tone_from, tone_to)`` through a fine look-up table (within 0.03 L)."""
    levels = np.linspace(0.0, 100.0, TONE_LEVELS, dtype=np.float32)
    table = np.interp(levels, tone_from, tone_to).astype(np.float32)
    index = np.clip(light * np.float32((TONE_LEVELS - 1) / 100.0) + np.float32(0.5), 0, TONE_LEVELS - 1)
    return table[index.astype(np.int32)]


def _scaled(values: np.ndarray, scale: float | tuple[float, float], x0: float, y0: float,
            size: tuple[int, int]) -> np.ndarray:
    """``values`` read bilinearly at (x0 + scale_x * x, y0 + scale_y * y) for the pixels (x, y) of an image of
    ``size`` (width, height), the edge repeated beyond it: a remap by an affine map, without the map's full-size
    arrays. ``scale``: one for both axes, or (scale_x, scale_y)."""
    scale_x, scale_y = scale if isinstance(scale, tuple) else (scale, scale)
    matrix = np.array([[scale_x, 0.0, x0], [0.0, scale_y, y0]], np.float64)
    read = cv2.warpAffine(values, matrix, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    return read.reshape(size[1], size[0], *values.shape[2:])


def _styled_strip(region_pixels: np.ndarray, rows: slice, plan: _Plan, base_light: _BaseLight,
                  step: float) -> np.ndarray:
    """Lab of the box's ``rows`` styled by one plan, its base lightness ``base_light``."""
    width = region_pixels.shape[1]
    count = rows.stop - rows.start
    ys = np.arange(rows.start, rows.stop, dtype=np.float32)
    xs = np.arange(width, dtype=np.float32)
    grid_h, grid_w = plan.offsets.shape[:2]
    y_low, y_high, y_weight = _seam_weights(ys / step, grid_h)
    x_low, x_high, x_weight = _seam_weights(xs / step, grid_w)
    blend = np.zeros((count, width, 4), np.float32)  # the copies' weighted sum (four channels: NumPy's fast case)
    copies = []  # each copy's piece (which place it reads, per pixel) and weights, for the blend's variance
    for cells_y, weight_y in ((y_low, 1.0 - y_weight), (y_high, y_weight)):
        for cells_x, weight_x in ((x_low, 1.0 - x_weight), (x_high, x_weight)):
            offset = _spread(plan.offsets, cells_y, cells_x)
            map_x = offset[..., 0] + xs[None, :]
            map_y = offset[..., 1] + ys[:, None]
            sampled = cv2.remap(plan.exemplar, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            # A copy counts where it reads the exemplar region (its detail is premultiplied by how far inside);
            # where none does, the detail fades out: nothing from beyond the region arrives.
            cell_weight = np.multiply.outer(weight_y, weight_x)
            weight = cell_weight * (sampled[..., 3] + np.float32(OUTSIDE_WEIGHT))
            sampled *= cell_weight[..., None]
            blend += sampled
            copies.append((_spread(plan.pieces, cells_y, cells_x), weight))
    layers = blend[..., :3]
    total = sum(weight for _, weight in copies)
    if VARIANCE_PRESERVING:  # the blend over its weights' sum, over the square root of its variance's share
        layers /= np.sqrt(np.maximum(_blend_variance(copies), np.float32(1e-6) * total * total))[..., None]
    else:
        layers /= total[..., None]
    own_lab = cv2.cvtColor(to_float_rgb(region_pixels[rows]), cv2.COLOR_RGB2Lab)
    light = own_lab[..., 0]
    wanted = _tone_lookup(light, plan.tone_from, plan.tone_to)
    # Lightness: the region's layout (its tones on the exemplar's scale, smooth but for strong
    # edges) plus the exemplar's fine detail; colour: the exemplar's, its coarse part smoothed
    # across the patches' seams, its fine part as it is.
    styled = np.empty((count, width, 3), np.float32)
    base = base_light.at(light, rows.start)
    if STRUCTURE_KEEP > 0:  # where the region draws a feature, its own lightness; the exemplar's brushwork elsewhere
        per_work = CELL / step  # working pixels a full-resolution pixel; (x + 0.5) * per_work - 0.5 read
        keep = _scaled(plan.keep, per_work, 0.5 * per_work - 0.5, (rows.start + 0.5) * per_work - 0.5, (width, count))
        keep_light, keep_colour = keep[..., 0], keep[..., 1:]
        styled[..., 0] = base + keep_light * (wanted - base) + (1.0 - keep_light) * layers[..., 0]
    else:
        styled[..., 0] = base + layers[..., 0]
    colour = _scaled(plan.colour, 1.0 / step, -0.5, rows.start / step - 0.5, (width, count))  # cell centres
    if STRUCTURE_KEEP > 0:  # where the region draws a colour edge, its own colour carried onto the exemplar's
        colour += keep_colour * (carry_colour(plan.colour_lookup, own_lab[..., 1:]) - colour)
    styled[..., 1:] = layers[..., 1:3] + colour
    return styled


def _to_dtype(rgb: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] back to ``like``'s dtype and channels (grey: the lightness; alpha kept)."""
    top = np.iinfo(like.dtype).max
    if like.shape[2] == 1:
        values = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None]
    else:
        values = rgb
    out = np.clip(np.rint(values * top), 0, top).astype(like.dtype)
    if like.shape[2] == 4:
        out = np.concatenate([out, like[..., 3:]], axis=2)
    return out


def working_factor(region_size: tuple[int, int], exemplar_boxes: list[Box]) -> float:
    """The common factor by which the region's box (width, height) and the exemplar regions' boxes are reduced
    for matching: the larger box to WORK_SIDE, or less so that each exemplar box keeps MIN_EXEMPLAR_SIDE working
    pixels, but the region's box at most MAX_REGION_SIDE."""
    exemplar_sides = [max(x1 - x0, y1 - y0) for x0, y0, x1, y1 in exemplar_boxes]
    region_side = max(region_size)
    factor = min(max([region_side, *exemplar_sides]) / WORK_SIDE, min(exemplar_sides) / MIN_EXEMPLAR_SIDE)
    return max(1.0, factor, region_side / MAX_REGION_SIDE)


def prepare_restyle(image: np.ndarray, region: np.ndarray, exemplar: np.ndarray, exemplar_region: np.ndarray, *,
                    second_exemplar: np.ndarray | None = None, second_region: np.ndarray | None = None,
                    mix: float = DEFAULT_MIX, reach: float | None = None,
                    correspondence: str = DEFAULT_CORRESPONDENCE) -> Restyled:
    """Everything :func:`restyle` computes but the strength (see :class:`Restyled`)."""
    started = time.perf_counter()
    image = check_image(image, "image")
    exemplar = check_image(exemplar, "exemplar")
    region = check_mask(region, image.shape[:2], "region")
    exemplar_region = check_mask(exemplar_region, exemplar.shape[:2], "exemplar region")
    mix = check_unit(mix, "mix")
    if correspondence not in METHODS:
        raise EditError(f"unknown correspondence {correspondence!r}; use one of {', '.join(METHODS)}")
    exemplars = [(exemplar, exemplar_region, 1.0 - mix if second_exemplar is not None else 1.0)]
    if second_exemplar is not None:
        second_exemplar = check_image(second_exemplar, "second exemplar")
        if second_region is None:
            raise MaskError("the second exemplar needs its region")
        second_region = check_mask(second_region, second_exemplar.shape[:2], "second exemplar region")
        exemplars.append((second_exemplar, second_region, mix))
    region_box = mask_bbox(region)
    if region_box is None:
        raise MaskError("the region is empty; select what to restyle")
    for _, mask, _ in exemplars:
        if not mask.any():
            raise MaskError("the exemplar region is empty; select the region whose style to take")
    try:
        reach = resolve_reach(region, region, reach)
    except ValueError as error:
        raise EditError(str(error)) from None
    box = box_within_reach(region_box, reach, image.shape)
    x0, y0, x1, y1 = box
    box_mask = region[y0:y1, x0:x1]
    weight = transition_weight(image[y0:y1, x0:x1], box_mask, reach)
    region_pixels = image[y0:y1, x0:x1]
    timings: dict[str, float] = {"check": time.perf_counter() - started}

    factor = working_factor((x1 - x0, y1 - y0), [mask_bbox(mask) for _, mask, _ in exemplars])
    step = factor * CELL
    plans = [(_plan(region_pixels, box_mask, ex, mask, factor, correspondence), share)
             for ex, mask, share in exemplars if share > 0]
    timings["match"] = time.perf_counter() - started - timings["check"]

    radius = max(1, int(round(GUIDE_RADIUS_CELLS * step)))
    base_lights = _base_lights(region_pixels, [plan for plan, _ in plans], radius)
    styled = np.empty_like(region_pixels)
    strip = max(STRIP_ROWS, STRIP_PIXELS // max(1, x1 - x0))

    def style(start: int) -> None:
        rows = slice(start, min(y1 - y0, start + strip))
        lab = sum(share * _styled_strip(region_pixels, rows, plan, base_light, step)
                  for (plan, share), base_light in zip(plans, base_lights))
        styled[rows] = _to_dtype(cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB), region_pixels[rows])

    starts = range(0, y1 - y0, strip)
    if STRIP_WORKERS > 1 and len(starts) > 1:  # each strip its own rows of ``styled``: the same result
        with ThreadPoolExecutor(min(STRIP_WORKERS, len(starts))) as pool:
            list(pool.map(style, starts))
    else:
        for start in starts:
            style(start)
    timings["transfer"] = time.perf_counter() - started - timings["check"] - timings["match"]
    timings["total"] = time.perf_counter() - started
    return Restyled(image, box, styled, weight, reach, timings, max(plan.peak_bytes for plan, _ in plans))


def restyle(image: np.ndarray, region: np.ndarray, exemplar: np.ndarray, exemplar_region: np.ndarray,
            strength: float = 1.0, *, second_exemplar: np.ndarray | None = None,
            second_region: np.ndarray | None = None, mix: float = DEFAULT_MIX, reach: float | None = None,
            correspondence: str = DEFAULT_CORRESPONDENCE) -> np.ndarray:
    """``image`` with ``region`` painted in the style of ``exemplar``'s ``exemplar_region``.

    ``strength`` 0 gives the input exactly, 1 the exemplar's style; a second exemplar is mixed in
    by ``mix`` (0: the first only, 1: the second only). ``reach`` (pixels; default
    :func:`engine.locality.default_reach`) is the transition's width: nothing farther from the
    region changes. ``correspondence``: "full", "masked" or "bilevel" attention.
    """
    strength = check_unit(strength, "strength")
    restyled = prepare_restyle(image, region, exemplar, exemplar_region, second_exemplar=second_exemplar,
                               second_region=second_region, mix=mix, reach=reach, correspondence=correspondence)
    return restyled.at_strength(strength)
