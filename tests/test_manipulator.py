"""Manipulator.edit: shapes, dtypes, the untouched-outside guarantee and its error paths."""
from __future__ import annotations

import numpy as np
import pytest

from engine.errors import EditError, MaskError
from engine.manipulator import EditCancelled, Manipulator


@pytest.fixture(scope="module")
def manipulator() -> Manipulator:
    return Manipulator(device="cpu")  # the shipped checkpoint


def painting(height: int = 96, width: int = 128, channels: int = 3, dtype=np.uint8) -> np.ndarray:
    rng = np.random.default_rng(3)
    ys, xs = np.mgrid[0:height, 0:width]
    base = np.stack([np.sin(xs / 5.0 + c) * np.cos(ys / 7.0 - c) for c in range(channels)], axis=-1)
    noise = rng.normal(0, 0.1, size=base.shape)
    top = np.iinfo(dtype).max
    return np.clip((base + noise + 1.5) / 3.0 * top, 0, top).astype(dtype)


def disc(height: int, width: int, cx: float, cy: float, radius: float) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    return (xs - cx) ** 2 + (ys - cy) ** 2 <= radius**2


@pytest.mark.parametrize("channels,dtype", [(1, np.uint8), (3, np.uint8), (4, np.uint8), (3, np.uint16)])
def test_edit_keeps_shape_dtype_and_untouched_outside(manipulator: Manipulator, channels: int, dtype) -> None:
    image = painting(channels=channels, dtype=dtype)
    source, target = disc(96, 128, 50, 48, 12), disc(96, 128, 60, 46, 14)
    result = manipulator.edit(image, source, target)
    assert result.image.shape == image.shape and result.image.dtype == image.dtype
    x0, y0, x1, y1 = result.box
    outside = np.ones((96, 128), bool)
    outside[y0:y1, x0:x1] = False
    np.testing.assert_array_equal(result.image[outside], image[outside])
    assert not np.array_equal(result.image, image)
    assert result.warped_mask.shape == (96, 128) and result.warped_mask.dtype == bool
    assert set(result.timings) >= {"prepare", "network", "render", "total"}


def test_only_the_full_resolution_fade_moves(manipulator: Manipulator) -> None:
    """Pixels outside the edit's fade (drawn at the image's own resolution) are bit-identical, and a
    pure move of the region moves its core by exactly that much."""
    from models.influence import fade_weight

    image = painting(160, 200)
    source, target = disc(160, 200, 80, 80, 20), disc(160, 200, 92, 80, 20)
    result = manipulator.edit(image, source, target)
    still = fade_weight(source, target) == 0
    assert still.any()
    np.testing.assert_array_equal(result.image[still], image[still])
    core = disc(160, 200, 92, 80, 12)
    error = np.abs(result.image[core].astype(int) - np.roll(image, 12, axis=1)[core].astype(int))
    assert error.mean() < 3


def test_grey_two_dimensional_input_is_accepted(manipulator: Manipulator) -> None:
    image = painting(channels=1)[..., 0]
    result = manipulator.edit(image, disc(96, 128, 50, 48, 12), disc(96, 128, 56, 48, 12))
    assert result.image.shape == (96, 128, 1)


def test_equal_masks_return_the_input_unchanged(manipulator: Manipulator) -> None:
    image = painting()
    mask = disc(96, 128, 50, 48, 12)
    result = manipulator.edit(image, mask, mask.copy())
    np.testing.assert_array_equal(result.image, image)
    assert not result.changed


def soft_disc(height: int, width: int, cx: float, cy: float, radius: float) -> np.ndarray:
    """An anti-aliased disc (1 inside, a one-pixel ramp at the edge) with a faint 0.3 halo around it."""
    ys, xs = np.mgrid[0:height, 0:width]
    distance = np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2)
    edge = np.clip(radius + 0.5 - distance, 0.0, 1.0)
    halo = np.where(distance < radius + 6, 0.3, 0.0)
    return np.maximum(edge, halo).astype(np.float32)


def test_anti_aliased_masks_are_thresholded(manipulator: Manipulator) -> None:
    """Soft masks (float in [0, 1], 8-bit 0..255) make exactly the edit of their halves: pixels
    at 0.5 or more (128 or more) are in the mask, the faint halo and the ramp's low end are not."""
    image = painting()
    source_soft = soft_disc(96, 128, 50, 48, 12)
    target_soft = (soft_disc(96, 128, 58, 48, 12) * 255).round().astype(np.uint8)
    source_hard, target_hard = source_soft >= 0.5, target_soft >= 128
    assert ((source_soft > 0) & ~source_hard).sum() > 100  # a threshold at "any value" would differ
    soft = manipulator.edit(image, source_soft, target_soft)
    hard = manipulator.edit(image, source_hard, target_hard)
    assert soft.changed
    np.testing.assert_array_equal(soft.image, hard.image)
    np.testing.assert_array_equal(soft.warped_mask, hard.warped_mask)
    assert soft.box == hard.box


def test_chained_edits_leave_far_pixels_bit_identical(manipulator: Manipulator) -> None:
    image = painting(160, 200)
    current = image
    for step in range(4):
        source = disc(160, 200, 40 + 5 * step, 40, 10)
        target = disc(160, 200, 45 + 5 * step, 42, 10)
        current = manipulator.edit(current, source, target).image
    np.testing.assert_array_equal(current[110:, 120:], image[110:, 120:])


def test_preview_has_the_reduced_size(manipulator: Manipulator) -> None:
    image = painting(200, 300)
    result = manipulator.edit(image, disc(200, 300, 100, 100, 30), disc(200, 300, 120, 100, 30), max_side=150)
    assert result.image.shape == (100, 150, 3)


@pytest.mark.parametrize("source,target,message", [
    (np.zeros((96, 128), bool), disc(96, 128, 50, 48, 12), "source mask is empty"),
    (disc(96, 128, 50, 48, 12), np.zeros((96, 128), bool), "target mask is empty"),
    (np.ones((10, 10), bool), disc(96, 128, 50, 48, 12), "source mask is 10x10 but the image is 128x96"),
])
def test_bad_masks_are_refused(manipulator: Manipulator, source, target, message: str) -> None:
    with pytest.raises(MaskError, match=message):
        manipulator.edit(painting(), source, target)


def test_bad_images_are_refused(manipulator: Manipulator) -> None:
    mask = disc(96, 128, 50, 48, 12)
    with pytest.raises(EditError, match="pixel type float32"):
        manipulator.edit(painting().astype(np.float32), mask, mask)
    with pytest.raises(EditError, match="2 channels"):
        manipulator.edit(painting(channels=2), mask, mask)


def test_cancel_raises_before_any_change(manipulator: Manipulator, monkeypatch) -> None:
    """Cancelled at any of its checks, an edit raises before it renders anything; the inputs are
    untouched and the next edit is exactly what it would have been."""
    image, source, target = painting(), disc(96, 128, 50, 48, 12), disc(96, 128, 58, 48, 12)
    inputs = (image.copy(), source.copy(), target.copy())
    polls = [0]

    def count() -> bool:
        polls[0] += 1
        return False

    reference = manipulator.edit(image, source, target, cancel=count)
    assert polls[0] >= 2, "the edit polls cancel between its stages"
    renders: list[int] = []

    def counted(render):
        return lambda *args, **kwargs: renders.append(1) or render(*args, **kwargs)

    import engine.manipulator as module

    if hasattr(module, "compose"):  # the renderer, wherever this version of the engine keeps it
        monkeypatch.setattr(module, "compose", counted(module.compose))
    else:
        monkeypatch.setattr(manipulator, "_render", counted(manipulator._render))
    for cancel_at in range(1, polls[0] + 1):
        seen = [0]

        def cancel(cancel_at: int = cancel_at) -> bool:
            seen[0] += 1
            return seen[0] >= cancel_at

        with pytest.raises(EditCancelled):
            manipulator.edit(image, source, target, cancel=cancel)
        assert seen[0] == cancel_at
        assert not renders, f"cancelled at check {cancel_at}, the edit still rendered"
        for before, after in zip(inputs, (image, source, target)):
            np.testing.assert_array_equal(after, before)
    again = manipulator.edit(image, source, target)
    np.testing.assert_array_equal(again.image, reference.image)
    np.testing.assert_array_equal(again.warped_mask, reference.warped_mask)


def test_one_pixel_image(manipulator: Manipulator) -> None:
    image = np.full((1, 1, 3), 7, np.uint8)
    mask = np.ones((1, 1), bool)
    np.testing.assert_array_equal(manipulator.edit(image, mask, mask).image, image)


def test_a_far_move_makes_its_underlay_beside_the_motion_with_the_same_result(manipulator: Manipulator,
                                                                              monkeypatch) -> None:
    """A move far beyond the reach is a transport: its underlay (footprint and fill) is made in a
    second thread while the motion is found, and the result is the one made in turn (an edit that
    may be cancelled makes it in turn)."""
    import threading

    import engine.manipulator as module

    image, source, target = painting(120, 200), disc(120, 200, 45, 60, 18), disc(120, 200, 150, 58, 18)
    made_in = []
    real = module.transport_underlay

    def underlay(*args, **kwargs):
        made_in.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "transport_underlay", underlay)
    beside = manipulator.edit(image, source, target)
    monkeypatch.setattr(module, "transport_underlay", real)
    in_turn = manipulator.edit(image, source, target, cancel=lambda: False)
    assert beside.mode == in_turn.mode == "transport" and made_in == [False]
    np.testing.assert_array_equal(beside.image, in_turn.image)
    np.testing.assert_array_equal(beside.warped_mask, in_turn.warped_mask)


def test_a_small_move_makes_no_underlay(manipulator: Manipulator, monkeypatch) -> None:
    """An edit the reach bends smoothly (a region grown by two pixels) never starts the transport's underlay."""
    import engine.manipulator as module

    started = []
    monkeypatch.setattr(module, "transport_underlay", lambda *args, **kwargs: started.append(args))
    result = manipulator.edit(painting(120, 200), disc(120, 200, 90, 60, 20), disc(120, 200, 90, 60, 22))
    assert result.mode == "bend" and started == []


def test_the_box_told_early_holds_every_changed_pixel(manipulator: Manipulator) -> None:
    """``on_box`` hears the edit's box before the result exists (the batch compresses the rows outside
    it meanwhile): no pixel outside it changes."""
    image, source, target = painting(120, 200), disc(120, 200, 45, 60, 18), disc(120, 200, 150, 58, 18)
    told = []
    result = manipulator.edit(image, source, target, on_box=told.append)
    assert len(told) == 1
    x0, y0, x1, y1 = told[0]
    changed = (result.image != image).any(axis=2)
    assert changed.any() and not changed[:y0].any() and not changed[y1:].any()
    assert not changed[:, :x0].any() and not changed[:, x1:].any()
