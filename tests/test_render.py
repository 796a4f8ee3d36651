"""The full-resolution renderer: exact where nothing moves, the CPU and GPU paths agree."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.render import STILL_DISPLACEMENT, render_cv2, render_torch


def textured(height: int, width: int, channels: int, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    return rng.integers(0, top, size=(height, width, channels), endpoint=True).astype(dtype)


def translation_field(size: int, dx: float, dy: float) -> np.ndarray:
    field = np.zeros((size, size, 2), np.float32)
    field[..., 0], field[..., 1] = dx, dy
    return field


@pytest.mark.parametrize("channels,dtype", [(1, np.uint8), (3, np.uint8), (4, np.uint16)])
def test_integer_translation_is_exact(channels: int, dtype) -> None:
    image = textured(40, 50, channels, dtype)
    source = np.zeros((40, 50), bool)
    source[10:20, 10:20] = True
    square, box = (0, 0, 50), (0, 0, 50, 40)
    patch, mask, moved, _ = render_cv2(image, source, translation_field(16, 3.0, -2.0), square, box, torch.device("cpu"))
    assert moved.all()
    # Output pixel (x, y) samples input (x + 3, y - 2); away from the clamped border it is exact.
    np.testing.assert_array_equal(patch[2:, :-3], image[:-2, 3:])
    np.testing.assert_array_equal(mask[12:22, 7:17], source[10:20, 10:20])



@pytest.mark.parametrize("renderer", [render_cv2, render_torch])
def test_bicubic_resampling_keeps_fine_brushwork(renderer) -> None:
    """Stripes 4 px apart moved by half a pixel: the bilinear read (the default) averages neighbours and keeps
    cos(pi/4) = 0.71 of their contrast; the bicubic read keeps over 0.85 of it (a rotated or scaled region is
    read between pixels everywhere, and a chain of edits compounds the loss)."""
    xs = np.arange(64, dtype=np.float64)
    stripes = 128 + 100 * np.cos(np.pi / 2 * (xs + 0.5))
    image = np.repeat(np.tile(stripes, (48, 1))[..., None], 3, axis=2).round().astype(np.uint8)
    source = np.ones((48, 64), bool)

    def kept(**options) -> float:
        patch = renderer(image, source, translation_field(16, 0.5, 0.0), (0, 0, 64), (0, 0, 64, 48),
                         torch.device("cpu"), **options).patch
        return patch[10:-10, 10:-10, 0].astype(np.float64).std() / image[10:-10, 10:-10, 0].std()

    assert abs(kept() - np.cos(np.pi / 4)) < 0.03
    assert kept(resampling="bicubic") > 0.85
    with pytest.raises(ValueError, match="bilinear, bicubic"):
        kept(resampling="lanczos")

def test_the_envelope_fades_the_motion_pixel_by_pixel() -> None:
    image = textured(40, 50, 3)
    source = np.zeros((40, 50), bool)
    envelope = np.zeros((40, 50), np.float32)
    envelope[:, :20] = 1.0  # left part moves in full, right part not at all
    envelope[:, 20:25] = 0.5
    square, box = (0, 0, 50), (0, 0, 50, 40)
    patch, _, moved, _ = render_cv2(image, source, translation_field(16, 2.0, 0.0), square, box, torch.device("cpu"),
                                 envelope)
    assert moved[:, :25].all() and not moved[:, 25:].any()
    np.testing.assert_array_equal(patch[:, :18], image[:, 2:20])  # moved by 2 pixels exactly
    np.testing.assert_array_equal(patch[:, 20:24], image[:, 21:25])  # by 1 pixel in the half-faded band


def test_still_field_moves_nothing() -> None:
    image = textured(30, 30, 3)
    field = translation_field(8, STILL_DISPLACEMENT / 2, 0.0)
    patch, _, moved, _ = render_cv2(image, np.ones((30, 30), bool), field, (0, 0, 30), (0, 0, 30, 30), torch.device("cpu"))
    assert not moved.any()


@pytest.mark.parametrize("dtype,faded", [(np.uint8, False), (np.uint16, False), (np.uint8, True)])
def test_cpu_and_torch_renderers_agree(dtype, faded: bool) -> None:
    rng = np.random.default_rng(1)
    image = textured(64, 80, 3, dtype, seed=2)
    source = np.zeros((64, 80), bool)
    source[20:40, 25:50] = True
    field = (rng.standard_normal((12, 12, 2)) * 3).astype(np.float32)
    square, box = (-8, -16, 96), (0, 0, 80, 64)
    envelope = np.clip(rng.random((64, 80)) * 2 - 0.5, 0, 1).astype(np.float32) if faded else None
    cpu = render_cv2(image, source, field, square, box, torch.device("cpu"), envelope)
    gpu_path = render_torch(image, source, field, square, box, torch.device("cpu"), envelope)
    np.testing.assert_array_equal(cpu[2], gpu_path[2])
    tolerance = 1 if dtype == np.uint8 else 300  # cv2 quantises sample positions to 1/32 pixel
    assert np.abs(cpu[0].astype(np.int64) - gpu_path[0].astype(np.int64)).max() <= tolerance
    assert (cpu[1] != gpu_path[1]).mean() < 0.01


@pytest.mark.parametrize("renderer", [render_cv2, render_torch])
def test_a_window_renders_that_part_of_the_box_and_carries_a_plane(renderer) -> None:
    rng = np.random.default_rng(3)
    image = textured(64, 80, 3, seed=4)
    source = np.zeros((64, 80), bool)
    source[20:40, 25:50] = True
    carry = rng.random((64, 80)).astype(np.float32)
    field = (rng.standard_normal((12, 12, 2)) * 3).astype(np.float32)
    square, box, window = (-8, -16, 96), (10, 5, 90, 69), (30, 20, 70, 50)
    whole = renderer(image, source, field, square, box, torch.device("cpu"))
    part = renderer(image, source, field, square, box, torch.device("cpu"), window=window, carry=carry)
    inner = (slice(15, 45), slice(20, 60))
    np.testing.assert_array_equal(part.patch, whole.patch[inner])
    np.testing.assert_array_equal(part.mask, whole.mask[inner])
    np.testing.assert_array_equal(part.moved, whole.moved[inner])
    assert whole.carried is None and part.carried.shape == (30, 40)
    # The carried plane is read where the image is: a plane equal to a channel comes back as that channel
    # (a ramp, which the image's bicubic and the plane's bilinear reading both reproduce exactly).
    ys, xs = np.mgrid[0:64, 0:80]
    ramp = np.repeat((2 * xs + 1.5 * ys).astype(np.uint8)[..., None], 3, axis=2)
    as_plane = renderer(ramp, source, field, square, box, torch.device("cpu"), window=window,
                        carry=ramp[..., 0].astype(np.float32))
    assert np.abs(as_plane.carried - as_plane.patch[..., 0].astype(np.float32)).max() <= 1.0
    with pytest.raises(ValueError):
        renderer(image, source, field, square, box, torch.device("cpu"), window=(0, 0, 95, 40))


@pytest.mark.parametrize("renderer", [render_cv2, render_torch])
def test_the_carried_plane_is_zero_where_the_map_leaves_the_box(renderer) -> None:
    # A matte that touches the box's right edge must not be smeared along reads that leave the box
    # (it once drew a bar of the moved layer across the old place of an object cut by the border).
    image = textured(20, 40, 3)
    carry = np.zeros((20, 40), np.float32)
    carry[:, 36:] = 1.0
    field = translation_field(8, 12.0, 0.0)  # every pixel reads 12 pixels to its right
    rendered = renderer(image, np.zeros((20, 40), bool), field, (0, 0, 40), (0, 0, 40, 20), torch.device("cpu"),
                        carry=carry)
    np.testing.assert_allclose(rendered.carried[:, 24:27], 1.0, atol=1e-3)  # reads 36..38: the matte
    assert np.abs(rendered.carried[:, 29:]).max() < 1e-3  # reads past column 40: nothing


def test_every_resampling_the_cli_and_editor_offer_is_rendered() -> None:
    """The command line's choices and the editor's setting (engine.edit_defaults.RESAMPLINGS, bilinear first)
    name exactly the renderer's ways, and the Settings dialog labels each."""
    from app.settings import RESAMPLING_LABELS
    from engine.edit_defaults import RESAMPLINGS
    from engine.render import RESAMPLING

    assert RESAMPLINGS[0] == "bilinear"
    assert set(RESAMPLINGS) == set(RESAMPLING) == set(RESAMPLING_LABELS)
