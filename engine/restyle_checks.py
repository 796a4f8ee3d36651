"""What a restyle's inputs must be, and what the artist is told about them.

The checks raise one clear :class:`~engine.errors.EditError` before any work starts; the notices do not stop
the restyle (a grey painting keeps none of the exemplar's colours; a tiny exemplar region holds no brushwork),
they are shown by the editor and printed by the command line.
"""
from __future__ import annotations

import numpy as np

from engine.errors import EditError


#: The second exemplar's share of the style when none is given.
DEFAULT_MIX = 0.5


def check_unit(value: float, name: str) -> float:
    """``value`` as a float in [0, 1]; a clear :class:`EditError` naming it otherwise."""
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise EditError(f"the {name} must be between 0 and 1, not {value:g}")
    return value


def check_image(image: np.ndarray, name: str) -> np.ndarray:
    """``image`` as (H, W, C), C 1, 3 or 4, 8- or 16-bit; a clear :class:`EditError` naming it otherwise."""
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3):
        raise EditError(f"the {name} must be an (H, W) or (H, W, C) array")
    image = image if image.ndim == 3 else image[..., None]
    if image.shape[2] not in (1, 3, 4) or image.dtype not in (np.uint8, np.uint16):
        raise EditError(f"the {name} must be 8- or 16-bit with 1, 3 or 4 channels")
    return image


#: An exemplar region whose channels differ by more than this share of their range (mean over the region) has colour.
COLOUR_SPREAD = 0.02


def colour_dropped(image: np.ndarray, exemplars: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """Whether the restyle of the one-channel (grey) ``image`` leaves out the colour of one of the ``exemplars``
    ((pixels, region) pairs): a grey painting stays grey (README: grey images stay one channel), so it takes an
    exemplar's light and brushwork but not its colours, which the artist should be told."""
    if image.ndim == 3 and image.shape[2] != 1:
        return False
    for pixels, region in exemplars:
        if pixels.ndim != 3 or pixels.shape[2] < 3 or not region.any():
            continue
        values = pixels[region][:, :3].astype(np.float32) / float(np.iinfo(pixels.dtype).max)
        if float((values.max(axis=1) - values.min(axis=1)).mean()) > COLOUR_SPREAD:
            return True
    return False


#: What the editor and the command line say when :func:`colour_dropped`.
GREY_NOTICE = "this painting is greyscale, so the region stays grey: it takes the exemplar's light and brushwork, " \
              "not its colours"
#: An exemplar region of fewer pixels than this holds no brushwork: 2-4 px squares give a flat colour in a fine
#: regular mesh (its one patch copied cell by cell), 8 px squares (64 pixels) a stippled texture.
MIN_EXEMPLAR_PIXELS = 64
#: What the editor and the command line say of an exemplar region under MIN_EXEMPLAR_PIXELS.
SMALL_NOTICE = "the exemplar region has only {pixels} pixel{s}, too few to hold brushwork: the region takes its " \
               "colour in a fine repeated pattern; pick a larger exemplar region"


def restyle_notices(image: np.ndarray,
                    exemplars: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[int | None, str]]:
    """What the artist should be told about restyling ``image`` from the ``exemplars`` ((pixels, region) pairs),
    each with what it is about (None: the painting; i: the i-th exemplar): a grey painting keeps none of their
    colours (:func:`colour_dropped`); a tiny exemplar region holds no brushwork. The restyle runs either way."""
    notices: list[tuple[int | None, str]] = [(None, GREY_NOTICE)] if colour_dropped(image, exemplars) else []
    for which, (_, region) in enumerate(exemplars):
        count = int(np.count_nonzero(region))
        if 0 < count < MIN_EXEMPLAR_PIXELS:
            notices.append((which, SMALL_NOTICE.format(pixels=count, s="" if count == 1 else "s")))
    return notices
