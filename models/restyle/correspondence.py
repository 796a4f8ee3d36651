"""Dense correspondence from the region's cells to the exemplar region's cells, three ways.

Each way takes unit descriptors ``query`` (N, C) of the region's cells and ``keys`` (M, C) of the
exemplar's usable cells and answers, for every query cell, the exemplar cell it attends to most
(hard attention: the row's arg-max) with that cosine score:

- :func:`full_attention`: the whole N x M correlation, as CoCosNet (memory O(N M)).
- :func:`masked_attention`: MATEBIT's masked attention, A_mask = ReLU(A) (their Eq. 2): a match
  with a score under :data:`RELIABLE_SCORE` is unreliable, and the cell takes its match from
  reliable neighbours instead (:func:`coherent_matches`).
- :func:`bilevel_attention`: RABIT's bi-level alignment: b x b blocks of cells rank the exemplar's
  blocks by the cosine of their mean descriptors and keep the top k, then attend densely to the
  k b^2 cells of those blocks only (memory O(N_b M_b + N k b^2) instead of O(N M)); here the
  exemplar's blocks overlap by half a block.

:func:`coherent_matches` then lets neighbouring cells share a match shifted along with them
when it is almost as good as their own (PatchMatch's propagation with a coherence bonus), so
whole strokes of the exemplar come across instead of a mosaic of cell-sized pieces.
Every function reports the bytes of the largest score matrices it held (``peak_bytes``). NumPy
only (float32), so that ``simnet restyle`` never imports torch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.restyle.features import unit_rows

#: Masked attention: a cosine score at or under this is an unreliable match (MATEBIT keeps the positive ones).
RELIABLE_SCORE = 0.0
#: Bi-level attention: block side (cells) and how many exemplar blocks each query block keeps.
BLOCK = 4
TOP_K = 4
METHODS = ("full", "masked", "bilevel")


@dataclass
class Matches:
    """For each query cell: the exemplar cell (index into the keys; -1 = none) and its cosine score."""

    index: np.ndarray  # (N,) int64
    score: np.ndarray  # (N,) float32
    peak_bytes: int


#: Re-use penalty: as the cells choose in turn, each exemplar cell's score is lowered by this times
#: log(uses so far / fair share), where above 1, so that cells alike (a flat region) do not all copy one patch.
USAGE_WEIGHT = 0.3
#: The cells choose in this many groups, in an order drawn from a generator of this seed (reproducible results).
CHOICE_ROUNDS, ORDER_SEED = 64, 0


def spread_choices(scores: np.ndarray, keys: int, candidates: np.ndarray | None = None,
                   cells: np.ndarray | None = None, rows_per_candidates: int = 1) -> np.ndarray:
    """Each row's arg-max of ``scores`` less a re-use penalty that grows as the rows choose, in a random order:
    rows alike take different exemplar cells once one is used more than its fair share (N / M), as a
    texture synthesis uses its exemplar uniformly (Jamriska et al. 2015, Fiser et al. 2016's StyLit). A penalty
    counted once from everyone's first choice lowers that choice for all alike rows at once, so they move
    together to the second best: a flat region's rows of cells each copied one patch along their length.

    The rows choose in :data:`CHOICE_ROUNDS` random groups, the penalty updated after each group (one row at a
    time in Python took 0.3 s for an 8K sky's 40,000 cells). ``scores`` (R, K): candidate scores per row, under
    -1 (or -inf) where a candidate is unusable; ``candidates`` (R / rows_per_candidates, K) the exemplar cell of
    each column, one row of them for each ``rows_per_candidates`` rows of scores (None: column k is cell k);
    ``cells`` (N,) which row of ``scores`` each chooser reads (None: one row each).
    Returns (N,) exemplar cells, -1 where no candidate is usable."""
    count = scores.shape[0] if cells is None else cells.shape[0]
    chosen = np.full(count, -1, np.int64)
    fair = max(1.0, count / max(keys, 1))
    uses = np.zeros(keys, np.int64)
    penalty = np.zeros(keys, np.float32)
    order = np.random.default_rng(ORDER_SEED).permutation(count)
    for group in np.array_split(order, max(1, min(count, CHOICE_ROUNDS))):
        rows = group if cells is None else cells[group]
        columns = None if candidates is None else candidates[rows // rows_per_candidates]
        row_scores = scores[rows]
        penalised = row_scores - (penalty[None, :] if columns is None else penalty[np.maximum(columns, 0)])
        best = penalised.argmax(axis=1)
        usable = np.take_along_axis(row_scores, best[:, None], axis=1)[:, 0] >= -1.0
        key = best if columns is None else np.take_along_axis(columns, best[:, None], axis=1)[:, 0]
        chosen[group[usable]] = key[usable]
        if USAGE_WEIGHT > 0:
            uses += np.bincount(key[usable], minlength=keys)
            penalty = (USAGE_WEIGHT * np.log(np.maximum(uses / np.float32(fair), 1.0))).astype(np.float32)
    return chosen


def _chosen_scores(scores: np.ndarray, index: np.ndarray) -> np.ndarray:
    return np.take_along_axis(scores, np.maximum(index, 0)[:, None], axis=1)[:, 0]


def full_attention(query: np.ndarray, keys: np.ndarray) -> Matches:
    """CoCosNet's correlation over all pairs; each cell's most attended exemplar cell (after the re-use penalty)."""
    scores = query @ keys.T
    index = spread_choices(scores, keys.shape[0])
    return Matches(index, _chosen_scores(scores, index), scores.nbytes)


def masked_attention(query: np.ndarray, keys: np.ndarray, reliable: float = RELIABLE_SCORE) -> Matches:
    """MATEBIT's masked correlation ReLU(A): rows with no score above ``reliable`` have no match (-1)."""
    scores = query @ keys.T
    masked = np.where(scores > reliable, scores, np.float32(-np.inf))
    index = spread_choices(masked, keys.shape[0])
    best = np.where(index >= 0, _chosen_scores(scores, index), np.float32(0))
    return Matches(index, best, 2 * scores.nbytes)


def _blocks(grid: tuple[int, int], valid: np.ndarray, block: int, stride: int | None = None,
            ) -> tuple[np.ndarray, np.ndarray]:
    """Cells grouped into block x block tiles every ``stride`` cells (default: ``block``, a partition):
    (B, block^2) cell indices (-1 outside the grid or not valid) and the (B,) tiles that hold any valid cell."""
    stride = stride or block
    height, width = grid
    starts_y = np.arange(0, max(1, height - block + stride), stride)
    starts_x = np.arange(0, max(1, width - block + stride), stride)
    offsets = np.arange(block)
    shape = (starts_y.size, starts_x.size, block, block)
    ys = np.broadcast_to(starts_y[:, None, None, None] + offsets[None, None, :, None], shape)
    xs = np.broadcast_to(starts_x[None, :, None, None] + offsets[None, None, None, :], shape)
    inside = (ys < height) & (xs < width)
    index = np.where(inside, ys * width + xs, -1)
    usable = inside & valid.reshape(-1)[np.maximum(index, 0)]
    tiles = np.where(usable, index, -1).reshape(-1, block * block)
    return tiles, (tiles >= 0).any(axis=1)


def _rows_of(cells: np.ndarray) -> np.ndarray:
    """For a bool map of cells: each grid cell's row among the true cells (raster order), -1 elsewhere."""
    rows = np.full(cells.size, -1, np.int64)
    rows[cells.reshape(-1)] = np.arange(int(cells.sum()))
    return rows


def _spread_top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """(R, k) columns of ``scores`` (R, K) for each row, best first, each rank chosen by :func:`spread_choices`: alike
    query blocks (a flat region's) rank the exemplar's blocks alike, and would all attend to the same k blocks."""
    remaining = scores.astype(np.float32, copy=True)
    chosen = np.empty((scores.shape[0], k), np.int64)
    rows = np.arange(scores.shape[0])
    for rank in range(k):
        chosen[:, rank] = spread_choices(remaining, scores.shape[1])
        remaining[rows, chosen[:, rank]] = -np.inf
    return chosen


def bilevel_attention(query: np.ndarray, keys: np.ndarray, query_grid: tuple[int, int],
                      query_cells: np.ndarray, key_grid: tuple[int, int], key_cells: np.ndarray,
                      block: int = BLOCK, top_k: int = TOP_K) -> Matches:
    """RABIT's ranking and attention: ``query_cells`` / ``key_cells`` (h, w) say which grid cell
    each row of ``query`` / ``keys`` is (a bool map whose true cells, in raster order, are the rows)."""
    query_rows, key_rows = _rows_of(query_cells), _rows_of(key_cells)
    query_tiles, query_used = _blocks(query_grid, query_cells, block)
    # The exemplar's blocks overlap by half, so that a query block off their lattice still finds
    # one block that holds most of its match (RABIT's blocks tile both images).
    key_tiles, key_used = _blocks(key_grid, key_cells, block, max(1, block // 2))
    query_tiles, key_tiles = query_tiles[query_used], key_tiles[key_used]
    query_tiles = np.where(query_tiles >= 0, query_rows[np.maximum(query_tiles, 0)], query_tiles)
    key_tiles = np.where(key_tiles >= 0, key_rows[np.maximum(key_tiles, 0)], key_tiles)

    def pooled(rows: np.ndarray, table: np.ndarray) -> np.ndarray:
        present = (rows >= 0)[..., None].astype(np.float32)
        return unit_rows((table[np.maximum(rows, 0)] * present).sum(axis=1))

    # Level 1: rank the exemplar's blocks for each query block (cosine of the blocks' mean descriptors).
    block_scores = pooled(query_tiles, query) @ pooled(key_tiles, keys).T
    k = min(top_k, key_tiles.shape[0])
    chosen = _spread_top_k(block_scores, k)  # (Bq, k), best first
    # Level 2: dense attention between each query block's cells and the cells of its k blocks.
    candidates = key_tiles[chosen].reshape(chosen.shape[0], -1)  # (Bq, k b^2)
    local = query[np.maximum(query_tiles, 0)] @ keys[np.maximum(candidates, 0)].transpose(0, 2, 1)
    local[np.broadcast_to((candidates < 0)[:, None, :], local.shape)] = -2.0
    present = query_tiles >= 0
    tile_of, slot_of = np.nonzero(present)
    local_rows = local.reshape(-1, local.shape[2])
    picked = spread_choices(local_rows, keys.shape[0], candidates, tile_of * local.shape[1] + slot_of, local.shape[1])
    index = np.full(query.shape[0], -1, np.int64)
    score = np.full(query.shape[0], -2.0, np.float32)
    cells = query_tiles[present]
    index[cells] = picked
    score[cells] = np.where(picked >= 0, np.einsum("ij,ij->i", query[cells], keys[np.maximum(picked, 0)]), -2.0)
    peak = (block_scores.size + local.size) * local.itemsize
    return Matches(index, score, peak)


#: Coherence: a neighbour's match, shifted along, replaces a cell's own when it scores within this of it (0.15 until
#: the choices were made in turn, which leaves fewer cells on a lowered score: 0.2 keeps as many pieces whole).
COHERENCE_BONUS = 0.2
COHERENCE_ROUNDS = 2
#: Sweep directions (dy, dx): left to right, top to bottom, right to left, bottom to top.
SWEEPS = ((0, 1), (1, 0), (0, -1), (-1, 0))


def coherent_matches(matches: Matches, query: np.ndarray, keys: np.ndarray, query_cells: np.ndarray,
                     key_cells: np.ndarray, bonus: float | None = None,
                     rounds: int = COHERENCE_ROUNDS,
                     barred: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Matches (N,) as exemplar grid positions (row-major index into the key grid), after letting
    each cell take its neighbour's match shifted by their offset when that scores within ``bonus``
    of its own (cells without a match take it whatever it scores).

    PatchMatch's propagation (Barnes et al. 2009): sweeps in scan order, each line taking from the
    line before it, already updated, so a shifted match runs on along a flat region and copies one
    continuous piece of the exemplar instead of one patch over and over. Unmatched cells that no
    neighbour reaches keep their own arg-max over all keys. ``barred`` (query rows, key rows): those cells take
    none of those keys from a neighbour."""
    bonus = np.float32(COHERENCE_BONUS if bonus is None else bonus)
    height, width = query_cells.shape
    key_height, key_width = key_cells.shape
    key_rows = _rows_of(key_cells)
    key_positions = np.flatnonzero(key_cells.reshape(-1))
    descriptors = np.zeros((height, width, query.shape[1]), np.float32)
    descriptors[query_cells] = query
    current = np.full((height, width), -1, np.int64)
    score = np.full((height, width), -3.0, np.float32)
    matched = matches.index >= 0
    current[query_cells] = np.where(matched, key_positions[np.maximum(matches.index, 0)], -1)
    score[query_cells] = np.where(matched, matches.score, np.float32(-3.0))
    barred_cells = barred_positions = None
    if barred is not None:
        barred_cells = np.zeros((height, width), bool)
        barred_cells.reshape(-1)[np.flatnonzero(query_cells.reshape(-1))[barred[0]]] = True
        barred_positions = np.zeros(key_height * key_width, bool)
        barred_positions[key_positions[barred[1]]] = True
    for _ in range(rounds):
        for dy, dx in SWEEPS:
            lines = range(1, height) if dy > 0 else range(height - 2, -1, -1) if dy < 0 else \
                range(1, width) if dx > 0 else range(width - 2, -1, -1)
            for line in lines:
                here = (line, slice(None)) if dy else (slice(None), line)
                before = (line - dy, slice(None)) if dy else (slice(None), line - dx)
                their = current[before]
                ky = np.floor_divide(their, key_width) + dy
                kx = their % key_width + dx
                ok = (their >= 0) & (ky >= 0) & (ky < key_height) & (kx >= 0) & (kx < key_width)
                offered = np.clip(ky * key_width + kx, 0, key_rows.size - 1)
                row = np.where(ok, key_rows[offered], -1)
                ok = ok & (row >= 0) & query_cells[here]
                if barred_cells is not None:
                    ok &= ~(barred_cells[here] & barred_positions[offered])
                candidate_score = np.einsum("ij,ij->i", descriptors[here], keys[np.maximum(row, 0)]) + bonus
                better = ok & (candidate_score > score[here])
                current[here] = np.where(better, ky * key_width + kx, current[here])
                score[here] = np.where(better, candidate_score, score[here])
    result = current[query_cells]
    missing = result < 0
    if missing.any():
        result[missing] = key_positions[(query[missing] @ keys.T).argmax(axis=1)]
    return result


def single_marks(positions: np.ndarray, query: np.ndarray, keys: np.ndarray, query_cells: np.ndarray,
                 key_cells: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """``positions`` (as :func:`coherent_matches` gives them) with each of the exemplar's marks copied once.

    ``marks`` (one per key row): the exemplar's distinctive cells, a star in a sky. A region larger than its
    exemplar copies every exemplar cell several times, which for its texture is what a texture synthesis does;
    a mark copied so shows as a row of the same star (the region's lightest cells all take the exemplar's
    lightest, the star's). A mark cell used by several pieces (cells that copy with one offset) stays in the
    largest of them; the other pieces' cells on marks take their best match among the other keys, then their
    neighbours' shifted matches where those score better, but no mark."""
    key_width = key_cells.shape[1]
    rows = _rows_of(key_cells)[positions]  # each query cell's key row
    on_mark = (rows >= 0) & marks[np.maximum(rows, 0)]
    if not on_mark.any():
        return positions
    query_y, query_x = np.nonzero(query_cells)
    key_y, key_x = np.divmod(positions, key_width)
    _, piece_of, piece_size = np.unique(np.stack([key_y - query_y, key_x - query_x], axis=1), axis=0,
                                        return_inverse=True, return_counts=True)
    piece_of = piece_of.reshape(-1)
    kept: set[int] = set()
    again = np.zeros(positions.shape[0], bool)
    mark_pieces = np.unique(piece_of[on_mark])
    for piece in mark_pieces[np.argsort(-piece_size[mark_pieces], kind="stable")]:
        cells = np.flatnonzero((piece_of == piece) & on_mark)
        used = set(rows[cells].tolist())
        if used & kept:
            again[cells] = True
        else:
            kept |= used
    if not again.any():
        return positions
    scores = query[again] @ keys.T
    scores[:, marks] = -np.inf
    index = rows.copy()
    index[again] = scores.argmax(axis=1)
    score = np.einsum("ij,ij->i", query, keys[index])
    return coherent_matches(Matches(index, score, 0), query, keys, query_cells, key_cells, rounds=1,
                            barred=(np.flatnonzero(again), np.flatnonzero(marks)))


def correspond(method: str, query: np.ndarray, keys: np.ndarray, query_cells: np.ndarray,
               key_cells: np.ndarray, marks: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Exemplar grid positions (N,) for the query cells by ``method`` (one of :data:`METHODS`), made
    coherent, and the peak bytes of the score matrices."""
    if method == "full":
        matches = full_attention(query, keys)
    elif method == "masked":
        matches = masked_attention(query, keys)
    elif method == "bilevel":
        matches = bilevel_attention(query, keys, query_cells.shape, query_cells, key_cells.shape, key_cells)
    else:
        raise ValueError(f"unknown correspondence {method!r}; use one of {', '.join(METHODS)}")
    positions = coherent_matches(matches, query, keys, query_cells, key_cells)
    if marks is not None and marks.any():
        positions = single_marks(positions, query, keys, query_cells, key_cells, marks)
    return positions, matches.peak_bytes
