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
Every function reports the bytes of the largest score matrices it held (``peak_bytes``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

#: Masked attention: a cosine score at or under this is an unreliable match (MATEBIT keeps the positive ones).
RELIABLE_SCORE = 0.0
#: Bi-level attention: block side (cells) and how many exemplar blocks each query block keeps.
BLOCK = 4
TOP_K = 4
#: Rows of the full correlation computed at once (the whole matrix is still held for the arg-max).
METHODS = ("full", "masked", "bilevel")


@dataclass
class Matches:
    """For each query cell: the exemplar cell (index into the keys; -1 = none) and its cosine score."""

    index: torch.Tensor  # (N,) long
    score: torch.Tensor  # (N,) float
    peak_bytes: int


#: Re-use penalty: a second pass subtracts this times log(uses / fair share), where above 1, from
#: each exemplar cell's score, so that a flat region does not copy one exemplar patch over and over.
USAGE_WEIGHT = 0.3


def usage_penalty(index: torch.Tensor, keys: int) -> torch.Tensor:
    """(keys,) penalty of each exemplar cell from how often the first pass chose it."""
    if USAGE_WEIGHT <= 0:
        return torch.zeros(keys)
    uses = torch.bincount(index[index >= 0], minlength=keys).float()
    fair = max(1.0, float((index >= 0).sum()) / keys)
    return USAGE_WEIGHT * torch.log((uses / fair).clamp_min(1.0))


def _chosen_scores(scores: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return torch.gather(scores, 1, index.clamp_min(0).unsqueeze(1)).squeeze(1)


def full_attention(query: torch.Tensor, keys: torch.Tensor) -> Matches:
    """CoCosNet's correlation over all pairs; each cell's most attended exemplar cell (after the re-use penalty)."""
    scores = query @ keys.t()
    index = (scores - usage_penalty(scores.argmax(dim=1), keys.shape[0])).argmax(dim=1)
    return Matches(index, _chosen_scores(scores, index), scores.numel() * scores.element_size())


def masked_attention(query: torch.Tensor, keys: torch.Tensor, reliable: float = RELIABLE_SCORE) -> Matches:
    """MATEBIT's masked correlation ReLU(A): rows with no score above ``reliable`` have no match (-1)."""
    scores = query @ keys.t()
    masked = torch.where(scores > reliable, scores, torch.zeros(()))
    best, index = masked.max(dim=1)
    index = torch.where(best > 0, index, torch.full_like(index, -1))
    penalised = masked - usage_penalty(index, keys.shape[0])
    penalised = penalised.masked_fill(masked <= 0, float("-inf"))
    second = penalised.argmax(dim=1)
    index = torch.where(index >= 0, second, index)
    best = torch.where(index >= 0, _chosen_scores(scores, index), torch.zeros(()))
    return Matches(index, best, 2 * scores.numel() * scores.element_size())


def _blocks(grid: tuple[int, int], valid: torch.Tensor, block: int, stride: int | None = None,
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Cells grouped into block x block tiles every ``stride`` cells (default: ``block``, a partition):
    (B, block^2) cell indices (-1 outside the grid or not valid) and the (B,) tiles that hold any valid cell."""
    stride = stride or block
    height, width = grid
    starts_y = torch.arange(0, max(1, height - block + stride), stride)
    starts_x = torch.arange(0, max(1, width - block + stride), stride)
    offsets = torch.arange(block)
    ys = (starts_y.view(-1, 1, 1, 1) + offsets.view(1, 1, -1, 1)).expand(-1, starts_x.numel(), block, block)
    xs = (starts_x.view(1, -1, 1, 1) + offsets.view(1, 1, 1, -1)).expand(starts_y.numel(), -1, block, block)
    inside = (ys < height) & (xs < width)
    index = torch.where(inside, ys * width + xs, torch.full_like(ys, -1))
    usable = inside & valid.reshape(-1)[index.clamp_min(0)]
    tiles = torch.where(usable, index, torch.full_like(index, -1)).reshape(-1, block * block)
    return tiles, (tiles >= 0).any(dim=1)


def bilevel_attention(query: torch.Tensor, keys: torch.Tensor, query_grid: tuple[int, int],
                      query_cells: torch.Tensor, key_grid: tuple[int, int], key_cells: torch.Tensor,
                      block: int = BLOCK, top_k: int = TOP_K) -> Matches:
    """RABIT's ranking and attention: ``query_cells`` / ``key_cells`` (h, w) say which grid cell
    each row of ``query`` / ``keys`` is (a bool map whose true cells, in raster order, are the rows)."""
    query_rows = torch.full((query_grid[0] * query_grid[1],), -1, dtype=torch.long)
    query_rows[query_cells.reshape(-1)] = torch.arange(query.shape[0])
    key_rows = torch.full((key_grid[0] * key_grid[1],), -1, dtype=torch.long)
    key_rows[key_cells.reshape(-1)] = torch.arange(keys.shape[0])
    query_tiles, query_used = _blocks(query_grid, query_cells, block)
    # The exemplar's blocks overlap by half, so that a query block off their lattice still finds
    # one block that holds most of its match (RABIT's blocks tile both images).
    key_tiles, key_used = _blocks(key_grid, key_cells, block, max(1, block // 2))
    query_tiles, key_tiles = query_tiles[query_used], key_tiles[key_used]
    query_tiles = torch.where(query_tiles >= 0, query_rows[query_tiles.clamp_min(0)], query_tiles)
    key_tiles = torch.where(key_tiles >= 0, key_rows[key_tiles.clamp_min(0)], key_tiles)

    def pooled(rows: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        present = (rows >= 0).unsqueeze(-1).float()
        return F.normalize((table[rows.clamp_min(0)] * present).sum(1), dim=1)

    # Level 1: rank the exemplar's blocks for each query block (cosine of the blocks' mean descriptors).
    block_scores = pooled(query_tiles, query) @ pooled(key_tiles, keys).t()
    k = min(top_k, key_tiles.shape[0])
    chosen = block_scores.topk(k, dim=1).indices  # (Bq, k)
    # Level 2: dense attention between each query block's cells and the cells of its k blocks.
    candidates = key_tiles[chosen].reshape(chosen.shape[0], -1)  # (Bq, k b^2)
    local = torch.einsum("qic,qjc->qij", query[query_tiles.clamp_min(0)], keys[candidates.clamp_min(0)])
    local = local.masked_fill((candidates < 0).unsqueeze(1), -2.0)
    first = torch.gather(candidates, 1, local.argmax(dim=2))
    penalty = usage_penalty(first[query_tiles >= 0], keys.shape[0])
    where = (local - penalty[candidates.clamp_min(0)].unsqueeze(1)).argmax(dim=2)
    best = torch.gather(local, 2, where.unsqueeze(2)).squeeze(2)
    picked = torch.gather(candidates, 1, where)
    index = torch.full((query.shape[0],), -1, dtype=torch.long)
    score = torch.full((query.shape[0],), -2.0)
    present = query_tiles >= 0
    index[query_tiles[present]] = picked[present]
    score[query_tiles[present]] = best[present]
    peak = (block_scores.numel() + local.numel()) * local.element_size()
    return Matches(index, score, peak)


#: Coherence: a neighbour's match, shifted along, replaces a cell's own when it scores within this of it.
COHERENCE_BONUS = 0.15
COHERENCE_ROUNDS = 2
#: Sweep directions (dy, dx): left to right, top to bottom, right to left, bottom to top.
SWEEPS = ((0, 1), (1, 0), (0, -1), (-1, 0))


def coherent_matches(matches: Matches, query: torch.Tensor, keys: torch.Tensor, query_cells: torch.Tensor,
                     key_cells: torch.Tensor, bonus: float | None = None,
                     rounds: int = COHERENCE_ROUNDS) -> torch.Tensor:
    """Matches (N,) as exemplar grid positions (row-major index into the key grid), after letting
    each cell take its neighbour's match shifted by their offset when that scores within ``bonus``
    of its own (cells without a match take it whatever it scores).

    PatchMatch's propagation (Barnes et al. 2009): sweeps in scan order, each line taking from the
    line before it, already updated, so a shifted match runs on along a flat region and copies one
    continuous piece of the exemplar instead of one patch over and over. Unmatched cells that no
    neighbour reaches keep their own arg-max over all keys."""
    bonus = COHERENCE_BONUS if bonus is None else bonus
    height, width = query_cells.shape
    key_height, key_width = key_cells.shape
    key_rows = torch.full((key_height * key_width,), -1, dtype=torch.long)
    key_rows[key_cells.reshape(-1)] = torch.arange(keys.shape[0])
    key_positions = torch.nonzero(key_cells.reshape(-1)).squeeze(1)
    descriptors = torch.zeros(height, width, query.shape[1])
    descriptors[query_cells] = query
    current = torch.full((height, width), -1, dtype=torch.long)
    score = torch.full((height, width), -3.0)
    matched = matches.index >= 0
    current[query_cells] = torch.where(matched, key_positions[matches.index.clamp_min(0)], -1)
    score[query_cells] = torch.where(matched, matches.score, torch.full_like(matches.score, -3.0))
    for _ in range(rounds):
        for dy, dx in SWEEPS:
            lines = range(1, height) if dy > 0 else range(height - 2, -1, -1) if dy < 0 else \
                range(1, width) if dx > 0 else range(width - 2, -1, -1)
            for line in lines:
                here = (line, slice(None)) if dy else (slice(None), line)
                before = (line - dy, slice(None)) if dy else (slice(None), line - dx)
                their = current[before]
                ky = torch.div(their, key_width, rounding_mode="floor") + dy
                kx = their % key_width + dx
                ok = (their >= 0) & (ky >= 0) & (ky < key_height) & (kx >= 0) & (kx < key_width)
                row = torch.where(ok, key_rows[(ky * key_width + kx).clamp(0, key_rows.numel() - 1)], -1)
                ok = ok & (row >= 0) & query_cells[here]
                candidate_score = (descriptors[here] * keys[row.clamp_min(0)]).sum(1) + bonus
                better = ok & (candidate_score > score[here])
                current[here] = torch.where(better, ky * key_width + kx, current[here])
                score[here] = torch.where(better, candidate_score, score[here])
    result = current[query_cells]
    missing = result < 0
    if missing.any():
        result[missing] = key_positions[(query[missing] @ keys.t()).argmax(dim=1)]
    return result


def correspond(method: str, query: torch.Tensor, keys: torch.Tensor, query_cells: torch.Tensor,
               key_cells: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Exemplar grid positions (N,) for the query cells by ``method`` (one of :data:`METHODS`), made
    coherent, and the peak bytes of the score matrices."""
    if method == "full":
        matches = full_attention(query, keys)
    elif method == "masked":
        matches = masked_attention(query, keys)
    elif method == "bilevel":
        matches = bilevel_attention(query, keys, tuple(query_cells.shape), query_cells,
                                    tuple(key_cells.shape), key_cells)
    else:
        raise ValueError(f"unknown correspondence {method!r}; use one of {', '.join(METHODS)}")
    return coherent_matches(matches, query, keys, query_cells, key_cells), matches.peak_bytes
