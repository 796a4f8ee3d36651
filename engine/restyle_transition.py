"""How far a restyle reaches past its region: in full on the region, fading to nothing at the reach, and
only over what continues the region.

A plain fade over the reach (:func:`engine.locality.smoothstep_falloff`) restyles whatever lies next to
the region: the sky of Munch's *Scream* restyled from the *Starry Night*'s turned the dark hills under it
into a band of bright blue 40 px tall. Here a pixel outside the region takes the restyle in proportion to
the fade and to how well the region's colours near it explain its own colour (a Gaussian of the CIELAB
distance, measured in units of the region's local colour spread). Across an object's edge (the sky
against the hills) the restyle stops within a pixel or two, the edge's own anti-aliased pixels taking
part of it; where the selection cuts through one field of colour (half a wall brushed), the band's
pixels are the region's colour and the restyle fades over the reach as before.

The region's local colour and spread come from normalised convolution (only pixels wholly inside the
region count) on reduced copies of the box, read at each band pixel; the band pixels' own colours are
read at full resolution. Pixels farther than the reach keep weight 0, as before.
"""
from __future__ import annotations

import cv2
import numpy as np

from engine.imageio import to_float_rgb
from engine.locality import distance_outside, smoothstep_falloff
from engine.sampling import sample_points
from engine.smoothing import coarse_blur

#: The box is reduced so that its longer side is at most this (pixels) for the region's colour field.
FIELD_SIDE = 512
#: The region's colour near a band pixel: a Gaussian of this share of the reach (then, where the
#: region is farther than that reaches, one of the whole reach).
NEAR_SHARE = 0.25
#: A band pixel whose colour misses the region's local colour by SPREAD_SCALE times the region's local
#: spread plus SPREAD_FLOOR (CIELAB units) keeps exp(-1/2) of the fade.
SPREAD_SCALE, SPREAD_FLOOR = 1.0, 6.0
#: Whatever their colour, pixels within this many pixels of the region keep at least 1 - distance / EDGE_SOFTNESS
#: of the fade: the selection's own pixel steps are softened (a mask is drawn to whole pixels).
EDGE_SOFTNESS = 1.5


def transition_weight(pixels: np.ndarray, region: np.ndarray, reach: float) -> np.ndarray:
    """The restyle's blending weight over ``pixels`` (a box of the painting, any dtype and channels)
    around ``region`` ((H, W) bool): 1 on the region, the fade over ``reach`` times the colour's
    continuity outside it, 0 beyond the reach (float32)."""
    weight = region.astype(np.float32)
    if not region.any():
        return weight
    distance = distance_outside(region)
    # The fade and its colour test only where it is neither 1 nor 0 (an 8K sky's box is 27 M pixels; its band
    # a few percent of them).
    rows, cols = np.nonzero((distance > 0) & (distance < reach))
    if rows.size == 0:
        return weight
    fade = smoothstep_falloff(distance[rows, cols], reach)
    own = _lab(to_float_rgb(pixels[rows, cols][:, None]))[:, 0]
    field, factor = _region_colour_field(pixels, region, reach)
    xs, ys = cols.astype(np.float32), rows.astype(np.float32)
    near = sample_points(field, (xs + 0.5) / factor - 0.5, (ys + 0.5) / factor - 0.5)
    mean, spread = near[:, :3], near[:, 3]
    miss = np.linalg.norm(own - mean, axis=1) / (SPREAD_SCALE * spread + SPREAD_FLOOR)
    continuity = np.maximum(np.exp(-0.5 * miss * miss), 1.0 - distance[rows, cols] / EDGE_SOFTNESS)
    weight[rows, cols] = fade * continuity.astype(np.float32)
    return weight


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb, np.float32), cv2.COLOR_RGB2Lab)


def _region_colour_field(pixels: np.ndarray, region: np.ndarray, reach: float) -> tuple[np.ndarray, float]:
    """The region's local mean colour and colour spread (CIELAB) near each pixel of the box, as a reduced
    (h, w, 4) field, and the factor it is reduced by."""
    height, width = region.shape
    factor = max(1.0, max(height, width) / FIELD_SIDE)
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    reduced = cv2.resize(np.ascontiguousarray(pixels), size, interpolation=cv2.INTER_AREA) if factor > 1.0 else pixels
    lab = _lab(to_float_rgb(reduced.reshape(size[1], size[0], -1)))
    share = cv2.resize(region.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    inside = (share >= 0.999).astype(np.float32)
    if not inside.any():  # a thin region: every reduced pixel mixes it with its surroundings
        inside = (share >= min(0.5, float(share.max()))).astype(np.float32)
    moments = np.concatenate([inside[..., None], inside[..., None] * lab, inside[..., None] * lab * lab], axis=2)
    # The near field where the region is near enough for it, else the far one, else the whole region's.
    chosen = np.broadcast_to(moments.reshape(-1, 7).sum(axis=0), moments.shape).copy()
    for sigma in (max(2.0, reach / factor), max(1.0, NEAR_SHARE * reach / factor)):
        blurred = coarse_blur(moments, sigma, border=cv2.BORDER_CONSTANT)
        found = blurred[..., 0] > 1e-3
        chosen[found] = blurred[found]
    support = np.maximum(chosen[..., :1], 1e-6)
    mean = chosen[..., 1:4] / support
    spread = np.sqrt(np.maximum(chosen[..., 4:7] / support - mean * mean, 0.0).sum(axis=2, keepdims=True))
    return np.concatenate([mean, spread], axis=2).astype(np.float32), factor
