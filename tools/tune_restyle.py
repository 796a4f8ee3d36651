"""Choose the restyle's structure constants on BSDS500 validation photographs (never on paintings).

Restyles the photo pairs ``simnet eval-restyle --bsds-val`` builds and prints mean content distance
and style loss beside Reinhard's (the anchor with the best content distance). Two stages: (1) the
guided filter's radius (cells), its edge deviation (Lab L) and the detail scale (cells); (2) the
tone's weight in the descriptors, the weight of the cells' places in their regions and the
re-use penalty (earlier sweeps chose no share of the region's own detail (0 of 0, 0.3, 0.6) and a
coherence bonus of 0.15 (of 0.05 and 0.15) by the same rule). Rule at each stage: the lowest
style loss among the settings whose content distance is within :data:`CONTENT_SLACK` of the
lowest any setting of the stage reached (no setting came within
1.2x Reinhard's content distance). A first rule, the lowest content distance among settings with
a style loss under 0.6x Reinhard's, chose an edge deviation of 10 that carries the region's own
strokes through (on the README's Van Gogh check: Van Gogh's strokes in Turner's colours, a
colour wash); the brushwork is the point of a restyle, so the rule now favours style.

    python tools/tune_restyle.py ../shared/data/bsds500/images/val --images 16
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import restyle as restyle_module  # noqa: E402
from engine.evaluation.restyle_anchors import reinhard  # noqa: E402
from engine.evaluation.restyle_eval import build_pairs  # noqa: E402
from engine.evaluation.restyle_metrics import restyle_scores  # noqa: E402
from models.restyle import correspondence  # noqa: E402

CONTENT_SLACK = 1.2
STAGES = (
    {"GUIDE_RADIUS_CELLS": (1.0, 2.0, 3.0), "EDGE_DEVIATION": (10.0, 20.0, 40.0), "DETAIL_CELLS": (0.75, 1.5)},
    {"TONE_WEIGHT": (0.5, 1.0, 2.0), "POSITION_WEIGHT": (0.0, 0.5), "USAGE_WEIGHT": (0.1, 0.3)},
)


def mean_scores(pairs, run) -> dict[str, float]:
    rows = [restyle_scores(p.image, run(p), p.region, p.exemplar, p.exemplar_region) for p in pairs]
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}


def _set(name: str, value: float) -> None:
    setattr(correspondence if name in ("COHERENCE_BONUS", "USAGE_WEIGHT") else restyle_module, name, value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--images", type=int, default=16)
    args = parser.parse_args()
    pairs = build_pairs(args.folder, 1, 0, args.images)
    anchor = mean_scores(pairs, lambda p: reinhard(p.image, p.region, p.exemplar, p.exemplar_region))
    print(f"{len(pairs)} pairs; Reinhard: content {anchor['content']:.3f} style {anchor['style']:.1f}", flush=True)
    for stage in STAGES:
        results = []
        for values in itertools.product(*stage.values()):
            setting = dict(zip(stage, values))
            for name, value in setting.items():
                _set(name, value)
            scores = mean_scores(pairs, lambda p: restyle_module.restyle(p.image, p.region, p.exemplar,
                                                                         p.exemplar_region))
            results.append((setting, scores))
            print(f"{setting}: content {scores['content']:.3f} structure {scores['structure']:.3f} "
                  f"style {scores['style']:.1f} texture {scores['texture']:.3f}", flush=True)
        best_content = min(r[1]["content"] for r in results)
        allowed = [r for r in results if r[1]["content"] <= CONTENT_SLACK * best_content]
        chosen = min(allowed, key=lambda r: r[1]["style"])[0]
        for name, value in chosen.items():
            _set(name, value)
        print(f"chosen: {chosen}", flush=True)


if __name__ == "__main__":
    main()
