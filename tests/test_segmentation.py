"""Segmentation: the fallback on synthetic textured shapes and on paintings, and a tiny random SAM
built from segment-anything's own classes, loaded through the real loader."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from engine.cli import main
from engine.errors import SegmentationError
from engine.imageio import load_image, load_mask
from engine.segmentation import FallbackSegmenter, load_segmenter
from engine.segmentation.sam import SamArchitecture, SamSegmenter, build_sam, detect_architecture

FIXTURES = Path(__file__).parent / "fixtures" / "segmentation"


def textured_scene(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A striped convex shape over a noisy background of a clearly different colour."""
    rng = np.random.default_rng(seed)
    height, width = 300, 400
    while True:
        background_colour, shape_colour = rng.integers(40, 200, 3), rng.integers(40, 200, 3)
        if np.linalg.norm(background_colour - shape_colour) > 60:
            break
    background = rng.normal(0, 20, (height, width, 3)) + background_colour
    ys, xs = np.mgrid[0:height, 0:width]
    stripes = np.sin(xs / 3.0 + ys / 5.0)[..., None] * 30 + shape_colour
    shape = np.zeros((height, width), np.uint8)
    corners = (rng.random((7, 2)) * [200, 150] + [100, 75]).astype(np.int32)
    cv2.fillPoly(shape, [cv2.convexHull(corners)], 1)
    shape = shape > 0
    return np.clip(np.where(shape[..., None], stripes, background), 0, 255).astype(np.uint8), shape


def iou(first: np.ndarray, second: np.ndarray) -> float:
    return float((first & second).sum() / (first | second).sum())


@pytest.mark.parametrize("seed", range(6))
def test_one_click_recovers_a_textured_shape(seed: int) -> None:
    image, shape = textured_scene(seed)
    segmenter = FallbackSegmenter()
    segmenter.set_image(image)
    inner = np.argwhere(cv2.erode(shape.astype(np.uint8), np.ones((15, 15))) > 0).mean(axis=0)
    mask = segmenter.predict([(inner[1], inner[0])], [1]).best
    assert iou(mask, shape) >= 0.9


def test_box_and_negative_points() -> None:
    image, shape = textured_scene(1)
    ys, xs = np.nonzero(shape)
    segmenter = FallbackSegmenter()
    segmenter.set_image(image)
    box = (xs.min() - 5, ys.min() - 5, xs.max() + 5, ys.max() + 5)
    assert iou(segmenter.predict(box=box).best, shape) >= 0.85
    clicked = segmenter.predict([(xs.mean(), ys.mean()), (10, 10)], [1, 0]).best
    assert not clicked[10, 10] and iou(clicked, shape) >= 0.85
    both = segmenter.predict([(xs.mean(), ys.mean())], [1], box=box).best  # a click and a box together
    assert iou(both, shape) >= 0.85


def test_fallback_prepares_once_per_image() -> None:
    image, _ = textured_scene(2)
    segmenter = FallbackSegmenter()
    progress = []
    segmenter.set_image(image, lambda fraction, message: progress.append(fraction))
    segmenter.set_image(image.copy())
    assert segmenter.preparations == 1 and progress[-1] == 1.0
    changed = image.copy()
    changed[0, 0] ^= 1
    segmenter.set_image(changed)
    assert segmenter.preparations == 2


@pytest.mark.parametrize("points,labels,box,message", [
    ([(500, 10)], [1], None, "outside the 400x300 image"),
    ([], [], None, "at least one point or a box"),
    ([(10, 10)], [0], None, "at least one positive point"),
    ([], [], (50, 50, 40, 60), "is empty"),
    ([(float("nan"), 10)], [1], None, "not a place on the image: give two finite numbers"),
    ([], [], (0, 0, float("inf"), 60), "not a place on the image: give four finite numbers"),
])
def test_bad_prompts_are_explained(points, labels, box, message: str) -> None:
    segmenter = FallbackSegmenter()
    segmenter.set_image(textured_scene(0)[0])
    with pytest.raises(SegmentationError, match=message):
        segmenter.predict(points, labels, box)


def test_painting_regression_fixtures(artworks_dir: Path) -> None:
    """Clicks on clear regions of real paintings, checked by eye once and kept as fixtures."""
    for fixture in sorted(FIXTURES.glob("*.png")):
        painting, x, y = fixture.stem.rsplit("_", 2)
        image = load_image(artworks_dir / f"{painting}.jpg").pixels
        segmenter = FallbackSegmenter()
        segmenter.set_image(image)
        mask = segmenter.predict([(float(x), float(y))], [1]).best
        assert iou(mask, load_mask(fixture, mask.shape)) >= 0.9, fixture.name


# -- Segment Anything -------------------------------------------------------------------------
TINY_SAM = SamArchitecture("custom", embed_dim=32, depth=2, num_heads=2, global_attn_indexes=(1,), window_size=4,
                           image_size=128, patch_size=16, prompt_dim=32, decoder_depth=2, decoder_mlp_dim=64)


@pytest.fixture(scope="module")
def tiny_sam_path(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("sam") / "tiny_sam.pth"
    torch.save(build_sam(TINY_SAM).state_dict(), path)
    return path


def test_architecture_is_read_from_the_weights(tiny_sam_path: Path) -> None:
    state = torch.load(tiny_sam_path, weights_only=True)
    assert detect_architecture(state) == TINY_SAM


def test_tiny_sam_points_box_and_automatic_mode(tiny_sam_path: Path) -> None:
    segmenter = load_segmenter(tiny_sam_path, device="cpu")
    assert isinstance(segmenter, SamSegmenter) and "custom" in segmenter.name
    image = textured_scene(3)[0]
    segmenter.set_image(image)
    for prompts in ({"points": [(200, 150)], "labels": [1]}, {"box": (100, 60, 300, 240)},
                    {"points": [(200, 150), (20, 20)], "labels": [1, 0], "box": (100, 60, 300, 240)}):
        prediction = segmenter.predict(**prompts)
        assert prediction.masks.shape[1:] == image.shape[:2] and prediction.masks.dtype == bool
        assert prediction.best.shape == image.shape[:2]
    regions = segmenter.everything(points_per_side=4)
    assert all(region.shape == image.shape[:2] for region in regions)


def test_sam_embedding_is_cached_per_image(tiny_sam_path: Path, monkeypatch) -> None:
    segmenter = SamSegmenter(tiny_sam_path)
    calls = []
    real_encoder = segmenter.model.image_encoder.forward
    monkeypatch.setattr(segmenter.model.image_encoder, "forward", lambda x: calls.append(1) or real_encoder(x))
    image = textured_scene(4)[0]
    segmenter.set_image(image)
    segmenter.predict([(100, 100)], [1])
    segmenter.set_image(image)
    segmenter.predict([(150, 120)], [1])
    assert len(calls) == 1
    edited = image.copy()
    edited[:10] = 0
    segmenter.set_image(edited)
    assert len(calls) == 2


def test_sam_answers_keep_their_parts_and_lose_their_specks(tiny_sam_path: Path, monkeypatch) -> None:
    """SAM's masks pass through the same speck rule as the built-in segmenter's: a 3-pixel speck beside a large
    part goes, a clicked small part and a second large part stay (SAM's own answer replaced by a made-up one)."""
    segmenter = SamSegmenter(tiny_sam_path)
    image = textured_scene(5)[0]
    segmenter.set_image(image)
    answer = np.zeros(image.shape[:2], bool)
    answer[50:150, 50:150] = answer[50:150, 250:350] = True  # two large parts
    answer[10, 10:13] = True  # a speck
    answer[200:203, 200:203] = True  # a small part, clicked
    monkeypatch.setattr(segmenter.predictor, "predict",
                        lambda **_: (answer[None], np.array([0.9]), None))
    best = segmenter.predict([(201.0, 201.0)], [1]).best  # snapped to the scene's edges, then cleaned
    assert not best[5:16, 5:18].any()
    assert best[201, 201] and best[60:140, 60:140].all() and best[60:140, 260:340].all()


@pytest.mark.parametrize("content,message", [
    (None, "does not exist"),
    (b"garbage", "truncated or not a PyTorch file"),
    (b"hello\n", "truncated or not a PyTorch file"),  # the unpickler raised a KeyError on this one
    ("damaged", "fails its checksum"),
    ("simnet", "not a Segment Anything state dict"),
    ("inconsistent", "unknown or inconsistent SAM model type"),
    ("truncated", "truncated or not a PyTorch file"),
])
def test_bad_sam_checkpoints(tmp_path: Path, tiny_sam_path: Path, content, message: str) -> None:
    path = tmp_path / "sam.pth"
    if content == "simnet":
        torch.save({"weight": torch.zeros(3)}, path)
    elif content == "inconsistent":
        state = torch.load(tiny_sam_path, weights_only=True)
        state = {k: v for k, v in state.items() if not k.startswith("image_encoder.blocks.0.")}
        torch.save(state, path)
    elif content == "truncated":
        path.write_bytes(tiny_sam_path.read_bytes()[:5000])
    elif content == "damaged":
        data = bytearray(tiny_sam_path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(SegmentationError, match=message):
        load_segmenter(path, device="cpu")


def test_segment_cli(tmp_path: Path, tiny_sam_path: Path, capsys) -> None:
    from engine.imageio import save_image

    image, shape = textured_scene(5)
    save_image(tmp_path / "scene.png", image)
    inner = np.argwhere(cv2.erode(shape.astype(np.uint8), np.ones((15, 15))) > 0).mean(axis=0)
    out = tmp_path / "mask.png"
    assert main(["segment", str(tmp_path / "scene.png"), "--point", f"{inner[1]:.0f},{inner[0]:.0f}", "-o", str(out)]) == 0
    assert iou(load_mask(out, shape.shape), shape) >= 0.9
    assert main(["segment", str(tmp_path / "scene.png"), "--point", "999,1", "-o", str(tmp_path / "x.png")]) == 2
    assert "outside" in capsys.readouterr().err and not (tmp_path / "x.png").exists()
    assert main(["segment", str(tmp_path / "scene.png"), "--auto", "-o", str(tmp_path / "labels.png")]) == 0
    assert load_image(tmp_path / "labels.png").pixels.max() >= 2
    assert main(["segment", str(tmp_path / "scene.png"), "--auto", "-o", str(tmp_path / "labels.jpg")]) == 2
    assert "a label image must be lossless" in capsys.readouterr().err  # JPEG blurred the labels into new numbers
    assert not (tmp_path / "labels.jpg").exists()
    folder = tmp_path / "regions"  # a folder an earlier run (of another painting) wrote more masks into
    folder.mkdir()
    for name in ("region_001.png", "region_900.png", "region_mine.png", "notes.txt"):
        (folder / name).write_bytes(b"earlier")
    capsys.readouterr()
    assert main(["segment", str(tmp_path / "scene.png"), "--auto", "-o", str(folder)]) == 0
    count = int(capsys.readouterr().out.split("wrote ")[1].split()[0])
    written = sorted(path.name for path in folder.glob("region_[0-9]*.png"))
    assert written == [f"region_{index:03d}.png" for index in range(1, count + 1)]  # region_900 is gone...
    assert (folder / "region_mine.png").exists() and (folder / "notes.txt").exists()  # ...the user's files stay
    assert load_mask(folder / "region_001.png", shape.shape).any()
    save_image(tmp_path / "scene3.png", textured_scene(3)[0])
    assert main(["segment", str(tmp_path / "scene3.png"), "--point", "200,150", "--sam-checkpoint",
                 str(tiny_sam_path), "--device", "cpu", "-o", str(tmp_path / "sam.png")]) == 0
    assert "Segment Anything (custom)" in capsys.readouterr().out
    assert load_mask(tmp_path / "sam.png", (300, 400)).any()
