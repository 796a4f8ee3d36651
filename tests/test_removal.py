"""Removing a region (``engine.removal``, ``simnet edit --remove``): the region and its painted outline go, their
place is filled from the painting around it, nothing farther than the reach changes; bad input is refused."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.cli import main
from engine.errors import EditError, MaskError
from engine.imageio import load_image, save_image, save_mask
from engine.removal import remove_region


def outlined_disc(height: int = 140, width: int = 180, dtype=np.uint8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ground of horizontal green and brown bands with a red disc ringed by a dark outline 4 px wide; the
    ground alone, the image, and the disc without its outline (what a click's answer usually holds)."""
    ys, xs = np.mgrid[0:height, 0:width]
    ground = np.where(((ys // 12) % 2 == 0)[..., None], [70, 140, 60], [150, 110, 70]).astype(np.float64)
    ground += np.random.default_rng(0).normal(0, 5, ground.shape)
    inside = np.hypot(xs - 90, ys - 70) < 30
    ring = (np.hypot(xs - 90, ys - 70) < 34) & ~inside
    image = np.where(inside[..., None], [210, 40, 40], ground)
    image[ring] = (25, 20, 30)
    top = np.iinfo(dtype).max
    scale = top / 255.0
    return (np.clip(ground, 0, 255) * scale).astype(dtype), (np.clip(image, 0, 255) * scale).astype(dtype), inside


def test_the_region_and_its_outline_go_and_nothing_beyond_the_reach_changes() -> None:
    ground, image, inside = outlined_disc()
    removal = remove_region(image, inside, reach=8.0)
    result = removal.image.astype(int)
    place = np.hypot(*np.mgrid[0:140, 0:180] - np.array([70, 90])[:, None, None]) < 34
    red = (result[..., 0] > 170) & (result[..., 1] < 80)
    dark = result.sum(axis=2) < 150
    assert red[place].mean() < 0.01 and dark[place].mean() < 0.05  # neither the disc nor its outline stays
    # the bands run on through the hole: each filled row is nearer its own band's colour than the other's
    error = np.abs(result[place] - ground[place].astype(int)).mean()
    assert error < 25
    far = cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, 5) > 8.0 + 1.5
    np.testing.assert_array_equal(removal.image[far], image[far])
    assert removal.changed and removal.reach == 8.0


@pytest.mark.parametrize("channels", [None, 1, 4])
def test_sixteen_bit_grey_and_rgba_paintings_keep_their_type(channels: int | None) -> None:
    ground, image, inside = outlined_disc(dtype=np.uint16)
    if channels == 1:
        image = image[..., :1]
    elif channels == 4:
        image = np.concatenate([image, np.full(image.shape[:2] + (1,), 65535, np.uint16)], axis=2)
    removal = remove_region(image, inside)
    assert removal.image.dtype == np.uint16 and removal.image.shape == image.shape
    assert not np.array_equal(removal.image, image)


def test_bad_regions_are_refused() -> None:
    _, image, inside = outlined_disc()
    with pytest.raises(MaskError, match="empty"):
        remove_region(image, np.zeros_like(inside))
    with pytest.raises(MaskError, match="but the image is"):
        remove_region(image, inside[:-1])
    with pytest.raises(EditError, match="reach"):
        remove_region(image, inside, reach=-2.0)
    one = np.zeros((1, 1, 3), np.uint8)
    removal = remove_region(one, np.ones((1, 1), bool))  # nothing around to fill from: the pixel stays
    assert removal.image.shape == (1, 1, 3)


def test_simnet_edit_remove_writes_the_result_and_refuses_bad_input(tmp_path: Path, capsys) -> None:
    _, image, inside = outlined_disc()
    paths = {name: tmp_path / f"{name}.png" for name in ("art", "region", "out", "empty")}
    save_image(paths["art"], image)
    save_mask(paths["region"], inside)
    save_mask(paths["empty"], np.zeros_like(inside))
    argv = ["edit", str(paths["art"]), "--source-mask", str(paths["region"]), "--remove", "-o", str(paths["out"])]
    assert main(argv) == 0
    assert "removed" in capsys.readouterr().out
    np.testing.assert_array_equal(load_image(paths["out"]).pixels, remove_region(image, inside).image)
    paths["out"].unlink()
    assert main(argv[:3] + [str(paths["empty"])] + argv[4:]) == 2
    assert "the region is empty" in capsys.readouterr().err and not paths["out"].exists()
    assert main(argv[:-1] + [str(paths["art"])]) == 2  # the original is not overwritten unless asked
    assert "original artwork" in capsys.readouterr().err
    np.testing.assert_array_equal(load_image(paths["art"]).pixels, image)


def test_simnet_batch_removes_regions_without_loading_simnet(tmp_path: Path, capsys, monkeypatch) -> None:
    """``{"op": "remove", "image", "region", "output"}`` lines: each written as ``simnet edit --remove`` writes
    it; a bad line is reported and the others still written; no SIM-Net model is loaded for them."""
    import engine.commands.batch as batch

    _, image, inside = outlined_disc()
    save_image(tmp_path / "art.png", image)
    save_mask(tmp_path / "region.png", inside)
    save_mask(tmp_path / "empty.png", np.zeros_like(inside))
    lines = ['{"op": "remove", "image": "art.png", "region": "region.png", "output": "one.png"}',
             '{"op": "remove", "image": "art.png", "region": "empty.png", "output": "two.png"}',
             '{"op": "remove", "image": "art.png", "output": "three.png"}']
    (tmp_path / "jobs.jsonl").write_text("\n".join(lines[:2]) + "\n")

    def no_model(args):
        raise AssertionError("a removal needs no SIM-Net model")

    monkeypatch.setattr(batch, "manipulator_from_args", no_model)
    assert main(["batch", str(tmp_path / "jobs.jsonl")]) == 2
    captured = capsys.readouterr()
    assert "1 of 2 edits written" in captured.out and "the region is empty" in captured.err
    np.testing.assert_array_equal(load_image(tmp_path / "one.png").pixels, remove_region(image, inside).image)
    assert not (tmp_path / "two.png").exists()
    (tmp_path / "jobs.jsonl").write_text(lines[2] + "\n")
    assert main(["batch", str(tmp_path / "jobs.jsonl")]) == 2
    assert "missing or non-text key(s): region" in capsys.readouterr().err
