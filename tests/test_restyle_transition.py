"""The restyle's transition: over what continues the region it fades over the reach; across an object's
edge it stops, so the neighbour keeps its own paint."""
from __future__ import annotations

import numpy as np

from engine.locality import distance_outside, smoothstep_falloff
from engine.restyle import restyle
from engine.restyle_transition import transition_weight


def two_fields(height: int = 120, width: int = 200, seed: int = 0) -> np.ndarray:
    """A grainy orange field on the left half, a grainy dark blue one on the right half."""
    rng = np.random.default_rng(seed)
    image = np.empty((height, width, 3), np.float64)
    image[:, : width // 2] = (225, 120, 40)
    image[:, width // 2:] = (30, 40, 70)
    return np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)


def striped_exemplar(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:96, 0:96]
    stripes = ((xs + 2 * ys) // 6) % 2
    image = np.where(stripes[..., None] == 1, [240, 230, 60], [40, 90, 220]).astype(np.float64)
    return np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)


def test_across_an_edge_the_neighbour_keeps_its_paint() -> None:
    image = two_fields()
    region = np.zeros(image.shape[:2], bool)
    region[:, :100] = True  # exactly the orange field
    reach = 20.0
    weight = transition_weight(image, region, reach)
    fade = smoothstep_falloff(distance_outside(region), reach)
    assert np.all(weight[region] == 1.0) and np.all(weight[fade == 0] == 0.0)
    assert fade[:, 105].mean() > 0.75  # a plain fade would restyle the blue field 5 px away almost fully
    assert weight[:, 102:].max() < 0.05
    out = restyle(image, region, striped_exemplar(), np.ones((96, 96), bool), reach=reach)
    change = np.abs(out.astype(int) - image).max(axis=2)
    assert change[:, 102:].mean() < 2.0 and change[:, :100].mean() > 20


def test_within_one_field_the_restyle_fades_over_the_reach() -> None:
    """A selection that cuts through one field of colour: no seam, the fade runs over the reach."""
    image = two_fields()
    region = np.zeros(image.shape[:2], bool)
    region[:, :50] = True  # the left half of the orange field
    reach = 20.0
    weight = transition_weight(image, region, reach)
    fade = smoothstep_falloff(distance_outside(region), reach)
    band = (fade > 0) & ~region
    assert np.all(weight[band] <= fade[band])
    assert weight[:, 55].mean() > 0.6 * fade[:, 55].mean() and weight[:, 60].mean() > 0.5 * fade[:, 60].mean()
    assert np.all(weight[:, 70:] == 0.0)


def test_a_thin_region_and_odd_pixels() -> None:
    """A one-pixel-wide region, 16-bit grey and RGBA paintings: weights in [0, 1], 1 on the region."""
    for pixels in (two_fields()[..., 0].astype(np.uint16) * 257, np.dstack([two_fields(), np.full((120, 200), 255,
                                                                                                    np.uint8)])):
        region = np.zeros((120, 200), bool)
        region[10:110, 40] = True
        weight = transition_weight(pixels, region, 6.0)
        assert weight.dtype == np.float32 and weight.min() >= 0.0 and weight.max() <= 1.0
        assert np.all(weight[region] == 1.0) and weight[10:110, 42].mean() > 0.3  # the same field on both sides
