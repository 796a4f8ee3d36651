"""The Restyle tool's exemplar state (app/exemplars.py), without Qt."""
from __future__ import annotations

import numpy as np

from app.exemplars import FIRST, SECOND, Exemplar, Exemplars


def exemplar(value: int, on_canvas: bool = False) -> Exemplar:
    image = np.full((8, 8, 3), value, np.uint8)
    region = np.zeros((8, 8), bool)
    region[2:6, 2:6] = True
    return Exemplar(image, region, f"exemplar {value}", on_canvas)


def test_a_second_exemplar_needs_a_first_and_is_mixed_in() -> None:
    exemplars = Exemplars()
    assert "No exemplar yet" in exemplars.describe()
    assert exemplars.put(exemplar(1), SECOND) == FIRST  # no first yet: it becomes the first
    assert exemplars.put(exemplar(2), SECOND) == SECOND
    arguments = exemplars.restyle_arguments()
    assert arguments["exemplar"][0, 0, 0] == 1 and arguments["second_exemplar"][0, 0, 0] == 2
    assert arguments["mix"] == 0.5 and "Second: exemplar 2 (16 px)" in exemplars.describe()
    exemplars.remove_second()
    assert set(exemplars.restyle_arguments()) == {"exemplar", "exemplar_region"}


def test_the_key_changes_with_every_exemplar_and_mix() -> None:
    exemplars = Exemplars()
    keys = [exemplars.key()]
    for change in (lambda: exemplars.put(exemplar(1)), lambda: exemplars.put(exemplar(2), SECOND),
                   lambda: exemplars.set_mix(0.8), lambda: exemplars.put(exemplar(3), SECOND),
                   exemplars.remove_second):
        change()
        keys.append(exemplars.key())
    assert len(set(keys)) == len(keys)


def test_another_painting_keeps_the_exemplars_but_not_their_outlines() -> None:
    exemplars = Exemplars()
    exemplars.put(exemplar(1, on_canvas=True))
    exemplars.put(exemplar(2), SECOND)
    assert len(exemplars.on_canvas()) == 1
    assert exemplars.painting_replaced() and exemplars.on_canvas() == []
    assert "opened before" in exemplars.describe() and exemplars.restyle_arguments()["exemplar"][0, 0, 0] == 1
    assert not exemplars.painting_replaced()  # nothing left on the canvas


def test_a_grey_painting_is_told_it_keeps_no_colour() -> None:
    exemplars = Exemplars()
    colourful = exemplar(1)
    colourful.image[..., 0] = 200  # a red exemplar region
    exemplars.put(colourful)
    grey, rgb = np.zeros((8, 8), np.uint8), np.zeros((8, 8, 3), np.uint8)
    assert "stays grey" in exemplars.describe(grey)
    assert "stays grey" not in exemplars.describe(rgb) and "stays grey" not in exemplars.describe()
    exemplars.put(exemplar(5))  # a grey exemplar: nothing is lost
    assert "stays grey" not in exemplars.describe(grey)


def test_a_speck_of_an_exemplar_is_told_it_holds_no_brushwork() -> None:
    exemplars = Exemplars()
    exemplars.put(exemplar(1))  # a 4x4 region
    painting = np.zeros((8, 8, 3), np.uint8)
    assert "only 16 pixels, too few to hold brushwork" in exemplars.describe(painting)
    large = Exemplar(np.zeros((20, 20, 3), np.uint8), np.ones((20, 20), bool), "large", False)
    exemplars.put(large)
    assert "too few" not in exemplars.describe(painting)
    exemplars.put(exemplar(1), SECOND)  # with two, the note says which
    assert "Note: second exemplar: the exemplar region has only 16 pixels" in exemplars.describe(painting)
