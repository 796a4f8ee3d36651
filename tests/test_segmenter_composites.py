"""Outlined composites for training the segmenter: a shape filled with one photo, ringed by a dark stroke,
pasted on another; the click's answer is the whole ringed shape."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.cli import main
from models.training.segmenter_composites import composite_click, object_shapes, paste_outlined, OutlinedComposite
from models.training.segmenter_data import CachedPhoto
from tests.test_segmenter import fake_bsds


def _photo(seed: int, size: tuple[int, int] = (160, 240)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    smooth = cv2.resize(rng.uniform(120, 230, (8, 12, 3)).astype(np.float32), size[::-1], interpolation=cv2.INTER_CUBIC)
    return np.clip(smooth + rng.normal(0, 6, smooth.shape), 0, 255).astype(np.uint8)


def test_a_pasted_shape_is_ringed_by_a_dark_stroke_and_answered_whole() -> None:
    rng = np.random.default_rng(0)
    host, donor = _photo(1), _photo(2)
    donor_labels = np.zeros(host.shape[:2], np.int32)
    donor_labels[:, 120:] = 1  # two donor regions: the shape holds parts of both, or one
    shape = np.zeros((40, 60), bool)
    cv2.ellipse(shape.view(np.uint8), (30, 20), (29, 19), 0, 0, 360, 1, -1)
    image, whole, parts = paste_outlined(host, donor, donor_labels, shape, rng)
    assert image.shape == host.shape and image.dtype == np.uint8
    inside = parts > 0
    assert inside.any() and not (inside & ~whole).any()
    ring = whole & ~cv2.dilate(inside.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(float)
    assert ring.any() and np.median(grey[ring]) < np.median(grey[~whole]) - 60  # the stroke is dark paint
    assert 0.02 * whole.size <= np.count_nonzero(whole) <= 0.25 * whole.size
    photo = CachedPhoto("x", image, [], {}, image.shape[:2])
    for seed in range(5):
        (x, y), part = composite_click(OutlinedComposite(photo, whole, parts), np.random.default_rng(seed))
        assert inside[int(y), int(x)] and part[int(y), int(x)] and not (part & ~inside).any()


def test_a_laced_ground_holds_dark_lines_of_the_outline_colour_and_the_same_object() -> None:
    host, donor = _photo(1), _photo(2)
    donor_labels = np.zeros(host.shape[:2], np.int32)
    shape = np.zeros((40, 60), bool)
    cv2.ellipse(shape.view(np.uint8), (30, 20), (29, 19), 0, 0, 360, 1, -1)
    plain = paste_outlined(host, donor, donor_labels, shape, np.random.default_rng(3))
    laced = paste_outlined(host, donor, donor_labels, shape, np.random.default_rng(3), laced=True)
    # The object, its answer and its parts are the same; only the ground around it gains dark lines.
    np.testing.assert_array_equal(plain[1], laced[1])
    np.testing.assert_array_equal(plain[2], laced[2])
    whole = plain[1]
    ground = ~cv2.dilate(whole.view(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    grey_plain = cv2.cvtColor(plain[0], cv2.COLOR_RGB2GRAY).astype(float)
    grey_laced = cv2.cvtColor(laced[0], cv2.COLOR_RGB2GRAY).astype(float)
    ring = whole & ~(plain[2] > 0)
    darkened = ground & (grey_laced < grey_plain - 40)
    assert darkened.sum() > 0.005 * ground.sum()
    assert abs(np.median(grey_laced[darkened]) - np.median(grey_plain[ring])) < 40  # the outline's own paint


def test_object_shapes_are_whole_regions_away_from_the_border() -> None:
    labels = np.zeros((100, 150), np.int32)
    labels[20:60, 30:90] = 1  # an object
    labels[:, 140:] = 2  # a strip along the border: not an object
    photo = CachedPhoto("p", np.zeros((100, 150, 3), np.uint8), [labels], {}, (112, 160))
    shapes = object_shapes([photo], np.random.default_rng(0))
    assert [shape.shape for shape in shapes] == [(40, 60)]


def test_segment_train_with_outlined_composites_caches_them_and_resumes(tmp_path: Path) -> None:
    from models.training.segmenter_trainer import SegmenterTrainer, SegmenterTrainOptions

    data, out = fake_bsds(tmp_path / "bsds"), tmp_path / "run"
    options = SegmenterTrainOptions(data=data, out=out, steps=2, batch_size=2, log_every=1, validate_every=2,
                                    validation_photos=1, outlined_share=0.5, outlined_count=6)
    lines: list[str] = []
    trainer = SegmenterTrainer(options, report=lines.append)
    assert sum(len(group) for group in trainer.composites.values()) == 6
    assert any("made 6 outlined composites" in line for line in lines)
    trainer.run()
    cached = out / "cache" / "outlined_6_seed0.pt"
    written = cached.stat().st_mtime_ns
    options.steps = 3
    resumed = SegmenterTrainer(options, report=lines.append)  # reads the same composites back
    assert resumed.step == 2 and cached.stat().st_mtime_ns == written
    first, again = trainer.composites, resumed.composites
    assert [c.photo.name for g in first.values() for c in g] == [c.photo.name for g in again.values() for c in g]
    assert all(np.array_equal(a.whole, b.whole) for g, h in zip(first.values(), again.values()) for a, b in zip(g, h))
    resumed.run()
    assert resumed.step == 3
    options.laced_share = 0.5  # laced composites are other composites: their own cache, the plain one untouched
    SegmenterTrainer(options, report=lines.append)
    assert (out / "cache" / "outlined_6_seed0_laced0.5.pt").exists() and cached.stat().st_mtime_ns == written


def test_segment_train_refuses_outlined_composites_it_cannot_make(tmp_path: Path, capsys) -> None:
    data = fake_bsds(tmp_path / "bsds")
    common = ["segment-train", "--data", str(data), "--out", str(tmp_path / "run"), "--steps", "1"]
    assert main(common + ["--outlined-share", "1.5"]) == 2
    assert "--outlined-share" in capsys.readouterr().err
    assert main(common + ["--laced-share", "0.5"]) == 2  # lacing without composites
    assert "--laced-share needs --outlined-share" in capsys.readouterr().err
    # the two training photos of this tiny set are both among eval-fill's shape sources: no shape is left
    assert main(common + ["--outlined-share", "0.3"]) == 2
    assert "no region may serve as a shape" in capsys.readouterr().err
    assert not (tmp_path / "run" / "last.pt").exists()
