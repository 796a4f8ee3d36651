"""Restyle (engine/restyle.py, models/restyle/): the region takes the exemplar's colours and brushwork,
keeps its layout, nothing beyond the reach changes; CLI and batch with their errors."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine import restyle as restyle_module
from engine.cli import main
from engine.imageio import load_image, save_image, save_mask
from engine.locality import distance_outside
from engine.restyle import prepare_restyle, restyle
from models.restyle.correspondence import bilevel_attention, full_attention, masked_attention
from models.restyle.features import unit_rows

H, W = 160, 200


def _painting(seed: int = 0) -> np.ndarray:
    """A blue picture, dark on the left, light on the right, with soft horizontal streaks."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(40, 200, W, dtype=np.float32)[None, :].repeat(H, 0)
    streaks = cv2.GaussianBlur(rng.normal(0, 25, (H, W)).astype(np.float32), (0, 0), sigmaX=6, sigmaY=1)
    light = ramp + streaks
    image = np.stack([0.3 * light, 0.5 * light, light], axis=2)
    return np.clip(image, 0, 255).astype(np.uint8)


def _exemplar(seed: int = 1) -> np.ndarray:
    """A red picture with a fine, vertical, high-contrast texture: its 'brushwork'."""
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.normal(0, 60, (H, W)).astype(np.float32), (0, 0), sigmaX=0.8, sigmaY=4)
    base = 130 + texture
    image = np.stack([base + 60, 0.45 * base, 0.3 * base], axis=2)
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def scene() -> dict:
    region = np.zeros((H, W), bool)
    region[30:130, 40:170] = True
    exemplar_region = np.zeros((H, W), bool)
    exemplar_region[20:140, 20:180] = True
    return {"image": _painting(), "region": region, "exemplar": _exemplar(), "exemplar_region": exemplar_region}


def _high_pass(grey: np.ndarray) -> np.ndarray:
    grey = grey.astype(np.float32)
    return grey - cv2.GaussianBlur(grey, (0, 0), 3)


def test_pixels_beyond_the_reach_are_bit_identical_and_strength_zero_is_the_input(scene) -> None:
    out = restyle(scene["image"], scene["region"], scene["exemplar"], scene["exemplar_region"], 1.0, reach=6)
    far = distance_outside(scene["region"]) > 6
    assert np.array_equal(out[far], scene["image"][far])
    assert not np.array_equal(out[scene["region"]], scene["image"][scene["region"]])
    zero = restyle(scene["image"], scene["region"], scene["exemplar"], scene["exemplar_region"], 0.0)
    assert np.array_equal(zero, scene["image"])


def test_region_takes_the_exemplars_colours_and_texture_but_keeps_its_layout(scene) -> None:
    image, region = scene["image"], scene["region"]
    exemplar, exemplar_region = scene["exemplar"], scene["exemplar_region"]
    out = restyle(image, region, exemplar, exemplar_region, 1.0, reach=0)
    inside = out[region].astype(np.float32)
    wanted = exemplar[exemplar_region].astype(np.float32)
    assert np.abs(inside.mean(0) - wanted.mean(0)).max() < 25  # red now, not blue
    assert inside[:, 0].mean() > inside[:, 2].mean() + 50
    # The exemplar's vertical fine texture came along: strong vertical-stroke energy (d/dx), weak d/dy.
    grey = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(np.float32)
    ys, xs = slice(40, 120), slice(50, 160)
    dx, dy = np.abs(np.diff(grey[ys, xs], axis=1)).mean(), np.abs(np.diff(grey[ys, xs], axis=0)).mean()
    assert dx > 1.8 * dy
    ex_grey = cv2.cvtColor(exemplar, cv2.COLOR_RGB2GRAY)
    assert _high_pass(grey)[ys, xs].std() > 0.5 * _high_pass(ex_grey)[exemplar_region].std()
    # The layout (dark left, light right) is kept.
    columns = grey[ys, xs].mean(0)
    assert np.corrcoef(columns, np.arange(columns.size))[0, 1] > 0.8


def eye_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A light face-like region with an eye's outline 25 L darker, a sky of short high-contrast strokes as its
    exemplar, the outline's pixels and the paint beside them."""
    rng = np.random.default_rng(0)
    height = width = 240
    image = np.full((height, width, 3), (200, 180, 160), np.uint8)
    cv2.ellipse(image, (120, 120), (50, 25), 0, 0, 360, (135, 110, 95), 5)
    region = np.zeros((height, width), bool)
    region[20:220, 20:220] = True
    exemplar = np.full((height, width, 3), (150, 170, 210), np.float32)
    for _ in range(400):
        x, y = rng.integers(0, width, 2)
        angle, length, shade = rng.uniform(0, np.pi), rng.integers(8, 20), rng.uniform(-90, 90)
        cv2.line(exemplar, (int(x), int(y)), (int(x + length * np.cos(angle)), int(y + length * np.sin(angle))),
                 (150 + shade, 170 + shade, 210 + shade), 2)
    exemplar = np.clip(exemplar, 0, 255).astype(np.uint8)
    outline = np.zeros((height, width), np.uint8)
    cv2.ellipse(outline, (120, 120), (50, 25), 0, 0, 360, 1, 3)
    band = np.zeros((height, width), np.uint8)
    cv2.ellipse(band, (120, 120), (50, 25), 0, 0, 360, 1, 19)
    beside = (band > 0) & ~(cv2.dilate(outline, np.ones((7, 7), np.uint8)) > 0)
    return image, region, exemplar, outline > 0, beside


def test_a_feature_the_region_draws_stays_legible_under_the_brushwork(monkeypatch) -> None:
    """A face restyled from a sky keeps its eyes: where the region draws a feature (a lightness edge at the scale of
    cells), its own lightness stays and the exemplar's strokes give way (engine.restyle.STRUCTURE_KEEP)."""
    image, region, exemplar, outline, beside = eye_scene()

    def legibility() -> float:
        """How far the outline stands out of the paint beside it, in units of that paint's spread."""
        lightness = cv2.cvtColor(restyle(image, region, exemplar, region), cv2.COLOR_RGB2Lab)[..., 0].astype(float)
        return (lightness[beside].mean() - lightness[outline].mean()) / lightness[beside].std()

    kept = legibility()
    monkeypatch.setattr(restyle_module, "STRUCTURE_KEEP", 0.0)
    assert kept > 1.1 * legibility()


def test_a_feature_drawn_in_colour_stays_in_the_exemplars_colours(monkeypatch) -> None:
    """A red mouth on pale skin of about the same lightness, restyled from a sky of blue and yellow strokes, stays a
    mouth: where the region draws a colour edge its own colour, carried onto the exemplar's colours, is kept (and its
    own lightness); it comes out in one of the sky's colours, not red."""
    rng = np.random.default_rng(1)
    height = width = 240
    image = np.full((height, width, 3), (196, 170, 150), np.uint8)
    cv2.ellipse(image, (120, 150), (45, 10), 0, 0, 360, (225, 120, 125), -1)
    region = np.zeros((height, width), bool)
    region[20:220, 20:220] = True
    exemplar = np.full((height, width, 3), (70, 100, 170), np.float32)
    for _ in range(500):
        x, y = rng.integers(0, width, 2)
        angle, length = rng.uniform(0, np.pi), rng.integers(8, 20)
        colour = np.array((230, 210, 90) if rng.random() < 0.3 else (40, 70, 150)) * rng.uniform(0.7, 1.1)
        cv2.line(exemplar, (int(x), int(y)), (int(x + length * np.cos(angle)), int(y + length * np.sin(angle))),
                 colour.tolist(), 2, cv2.LINE_AA)
    exemplar = np.clip(exemplar, 0, 255).astype(np.uint8)
    mouth = np.zeros((height, width), np.uint8)
    cv2.ellipse(mouth, (120, 150), (45, 10), 0, 0, 360, 1, -1)
    band = np.zeros((height, width), np.uint8)
    cv2.ellipse(band, (120, 150), (75, 40), 0, 0, 360, 1, -1)
    beside = (band > 0) & ~(cv2.dilate(mouth, np.ones((17, 17), np.uint8)) > 0)
    mouth = mouth > 0
    exemplar_ab = cv2.cvtColor(exemplar, cv2.COLOR_RGB2Lab)[..., 1:].reshape(-1, 2).astype(float)

    def restyled_mouth() -> tuple[float, np.ndarray]:
        """How far the mouth's colour stands out of the paint beside it (in units of that paint's spread), and the
        mouth's mean colour (Lab ab)."""
        lab = cv2.cvtColor(restyle(image, region, exemplar, region), cv2.COLOR_RGB2Lab).astype(float)
        distance = np.linalg.norm(lab[mouth].mean(0) - lab[beside].mean(0))
        return distance / np.sqrt(lab[beside].var(0).sum()), lab[mouth][:, 1:].mean(0)

    def among_exemplar_colours(ab: np.ndarray) -> bool:
        return bool(np.all(ab >= exemplar_ab.min(0)) and np.all(ab <= exemplar_ab.max(0)))

    legible, colour = restyled_mouth()
    assert among_exemplar_colours(colour)
    assert not among_exemplar_colours(cv2.cvtColor(image, cv2.COLOR_RGB2Lab)[..., 1:][mouth].mean(0))
    monkeypatch.setattr(restyle_module, "COLOUR_EDGE", float("inf"))
    assert legible > 1.5 * restyled_mouth()[0]


def test_a_feature_across_strip_borders_is_styled_as_in_one_pass(monkeypatch) -> None:
    """What keeps a feature reaches farther than the guided filter: strips must still add up to one pass."""
    image, region, exemplar = (cv2.resize(array.view(np.uint8), None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
                               for array in eye_scene()[:3])  # reduced for matching: cells of 11 px
    region = region.astype(bool)
    whole = restyle(image, region, exemplar, region)
    monkeypatch.setattr(restyle_module, "STRIP_ROWS", 1)
    monkeypatch.setattr(restyle_module, "STRIP_PIXELS", 1)
    assert np.abs(whole.astype(int) - restyle(image, region, exemplar, region)).max() <= 1


def test_the_base_lightness_found_on_a_reduced_box_follows_the_exact_guided_filter() -> None:
    """The region's layout (the guided filter's output) is found once for the box, reduced where its radius is wide
    (He and Sun's fast guided filter): exact for a radius within GUIDE_REDUCED_RADIUS, within a fraction of a
    lightness unit for an 8K box's (120 px), edges kept; the strips then read no rows beyond themselves."""
    rng = np.random.default_rng(3)
    height, width = 900, 1400
    ys, xs = np.mgrid[0:height, 0:width]
    grey = 60 + 0.08 * xs + 40 * np.sin(ys / 90.0) + np.where((xs - 700) ** 2 + (ys - 450) ** 2 < 250 ** 2, 70, 0)
    grey = grey + cv2.GaussianBlur(rng.normal(0, 12, (height, width)), (0, 0), 2)
    pixels = np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    light = cv2.cvtColor(pixels.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)[..., 0]
    tone_from = np.quantile(light, np.linspace(0, 1, 129)).astype(np.float32)
    tone_to = np.linspace(20, 90, 129, dtype=np.float32)
    plan = type("Plan", (), {"tone_from": tone_from, "tone_to": tone_to})()
    wanted = restyle_module._tone_lookup(light, tone_from, tone_to)
    eps = restyle_module.EDGE_DEVIATION ** 2
    for radius, tolerance in ((restyle_module.GUIDE_REDUCED_RADIUS, 1e-3), (120, 0.5)):
        a, b = restyle_module.guided_coefficients(light, wanted, radius, eps)  # the filter at full resolution
        exact = a * light + b
        base = restyle_module._base_lights(pixels, [plan], radius)[0]
        rows = slice(300, 620)
        assert np.abs(base.at(light[rows], rows.start) - exact[rows]).mean() < tolerance
        assert base.a.shape[0] * base.a.shape[1] <= height * width / max(1, radius / 16) ** 2 + width + height


def test_strength_changes_smoothly(scene) -> None:
    restyled = prepare_restyle(scene["image"], scene["region"], scene["exemplar"], scene["exemplar_region"])
    region = scene["region"]
    changes = [np.abs(restyled.at_strength(s)[region].astype(np.float32) - scene["image"][region]).mean()
               for s in np.linspace(0, 1, 11)]
    steps = np.diff(changes)
    assert changes[0] == 0 and np.all(steps > 0)
    assert steps.max() < 2.0 * steps.mean()


@pytest.mark.parametrize("channels", [3, 4])
def test_a_strength_blends_the_styled_box_in_by_its_weight(scene, channels: int) -> None:
    """The editor's preview at a strength (OpenCV's blend for 8-bit paintings): the input where the weight is 0, bit
    for bit; the styled box mixed in by strength x weight elsewhere, rounded; an alpha channel kept."""
    image = scene["image"] if channels == 3 else np.dstack([scene["image"], np.full(scene["image"].shape[:2], 77,
                                                                                    np.uint8)])
    restyled = prepare_restyle(image, scene["region"], scene["exemplar"], scene["exemplar_region"], reach=6)
    x0, y0, x1, y1 = restyled.box
    before = image[y0:y1, x0:x1].astype(np.float32)
    alpha = 0.6 * restyled.weight[..., None]
    wanted = before + alpha * (restyled.styled.astype(np.float32) - before)
    box = restyled.box_at_strength(0.6)
    assert box.dtype == np.uint8 and box.shape == before.shape
    assert np.abs(box - wanted).max() <= 0.5 + 2e-3  # rounded (float32 sums: within 0.002 of exact)
    assert np.array_equal(box[restyled.weight == 0], image[y0:y1, x0:x1][restyled.weight == 0])
    assert (restyled.weight == 0).any() and (restyled.weight > 0).any()
    if channels == 4:
        assert (box[..., 3] == 77).all()


def test_second_exemplar_is_mixed_in(scene) -> None:
    image, region = scene["image"], scene["region"]
    exemplar, exemplar_region = scene["exemplar"], scene["exemplar_region"]
    green = exemplar[..., [1, 0, 2]].copy()
    first = restyle(image, region, exemplar, exemplar_region, 1.0)
    only_first = restyle(image, region, exemplar, exemplar_region, 1.0, second_exemplar=green,
                         second_region=exemplar_region, mix=0.0)
    half = restyle(image, region, exemplar, exemplar_region, 1.0, second_exemplar=green,
                   second_region=exemplar_region, mix=0.5)
    only_second = restyle(image, region, exemplar, exemplar_region, 1.0, second_exemplar=green,
                          second_region=exemplar_region, mix=1.0)
    assert np.array_equal(first, only_first)
    red, green_share = (lambda a: a[region][:, 0].mean()), (lambda a: a[region][:, 1].mean())
    assert red(first) > red(half) > red(only_second)
    assert green_share(first) < green_share(half) < green_share(only_second)


def test_strips_give_the_same_result_as_one_pass(scene, monkeypatch) -> None:
    whole = restyle(scene["image"], scene["region"], scene["exemplar"], scene["exemplar_region"], 1.0)
    monkeypatch.setattr(restyle_module, "STRIP_ROWS", 1)
    monkeypatch.setattr(restyle_module, "STRIP_PIXELS", 1)
    strips = []
    real = restyle_module._styled_strip
    monkeypatch.setattr(restyle_module, "_styled_strip", lambda *args: strips.append(args[1]) or real(*args))
    monkeypatch.setattr(restyle_module, "STRIP_WORKERS", 2)  # strips styled in two threads at once ...
    in_strips = restyle(scene["image"], scene["region"], scene["exemplar"], scene["exemplar_region"], 1.0)
    assert len(strips) >= 2
    assert np.abs(whole.astype(int) - in_strips).max() <= 1
    monkeypatch.setattr(restyle_module, "STRIP_WORKERS", 1)  # ... give what one at a time gives
    np.testing.assert_array_equal(in_strips, restyle(scene["image"], scene["region"], scene["exemplar"],
                                                     scene["exemplar_region"], 1.0))


@pytest.mark.parametrize("method", ["full", "masked", "bilevel"])
def test_every_correspondence_restyles(scene, method: str) -> None:
    out = restyle(scene["image"], scene["region"], scene["exemplar"], scene["exemplar_region"], 1.0,
                  correspondence=method)
    assert out[scene["region"]][:, 0].mean() > out[scene["region"]][:, 2].mean() + 50


def test_attentions_find_planted_matches_and_bilevel_holds_less() -> None:
    """The query is a noisy 16 x 16 window of the 32 x 32 exemplar grid, off the block lattice; the
    features vary smoothly over the grid, as a backbone's do."""
    generator = np.random.default_rng(0)
    field = generator.standard_normal((32, 32, 16)).astype(np.float32)
    smooth = cv2.blur(field, (3, 3), borderType=cv2.BORDER_REFLECT)
    keys = unit_rows(smooth.reshape(-1, 16))
    ys, xs = np.meshgrid(np.arange(5, 21), np.arange(7, 23), indexing="ij")
    planted = (ys * 32 + xs).reshape(-1)
    noise = 0.05 * generator.standard_normal((16 * 16, 16)).astype(np.float32)
    query = unit_rows(keys[planted] + noise)
    full = full_attention(query, keys)
    assert np.array_equal(full.index, planted)
    assert np.array_equal(masked_attention(query, keys).index, planted)
    cells = np.ones((16, 16), bool), np.ones((32, 32), bool)
    bilevel = bilevel_attention(query, keys, (16, 16), cells[0], (32, 32), cells[1], block=4, top_k=4)
    assert (bilevel.index == planted).mean() > 0.95
    assert bilevel.peak_bytes * 4 <= full.peak_bytes
    positive = unit_rows(generator.random((64, 16)).astype(np.float32))
    negative = -unit_rows(generator.random((8, 16)).astype(np.float32))
    assert (masked_attention(negative, positive).index == -1).all()  # every score < 0: no reliable match
    assert (full_attention(negative, positive).index >= 0).all()


def test_bad_input_is_refused(scene) -> None:
    from engine.errors import EditError, MaskError

    with pytest.raises(MaskError, match="exemplar region is empty"):
        restyle(scene["image"], scene["region"], scene["exemplar"], np.zeros((H, W), bool))
    with pytest.raises(MaskError, match="region is empty"):
        restyle(scene["image"], np.zeros((H, W), bool), scene["exemplar"], scene["exemplar_region"])
    with pytest.raises(MaskError, match="but the image is"):
        restyle(scene["image"], scene["region"][:-1], scene["exemplar"], scene["exemplar_region"])
    with pytest.raises(EditError, match="strength"):
        restyle(scene["image"], scene["region"], scene["exemplar"], scene["exemplar_region"], 1.2)


@pytest.fixture()
def files(scene, tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / f"{name}.png" for name in ("image", "region", "exemplar", "exemplar_region")}
    save_image(paths["image"], scene["image"])
    save_image(paths["exemplar"], scene["exemplar"])
    save_mask(paths["region"], scene["region"])
    save_mask(paths["exemplar_region"], scene["exemplar_region"])
    return paths


def _cli(files: dict[str, Path], output: Path, **changes: str) -> int:
    arguments = {"--region": files["region"], "--exemplar": files["exemplar"],
                 "--exemplar-region": files["exemplar_region"], **changes}
    argv = ["restyle", str(changes.pop("image", files["image"]))]
    for key, value in arguments.items():
        if key.startswith("--"):
            argv += [key, str(value)]
    return main(argv + ["-o", str(output)])


def test_cli_writes_the_restyle(files, scene, tmp_path: Path, capsys) -> None:
    output = tmp_path / "out.png"
    assert _cli(files, output, **{"--strength": "0.7", "--reach": "5"}) == 0
    assert "wrote" in capsys.readouterr().out
    written = load_image(output).pixels
    expected = restyle(scene["image"], scene["region"], scene["exemplar"], scene["exemplar_region"], 0.7, reach=5)
    assert np.array_equal(written, expected)


def test_cli_says_when_a_grey_painting_keeps_no_colour(files, scene, tmp_path: Path, capsys) -> None:
    from engine.restyle_checks import colour_dropped

    assert colour_dropped(scene["image"][..., 0], [(scene["exemplar"], scene["exemplar_region"])])
    grey = tmp_path / "grey.png"
    save_image(grey, scene["image"][..., 0].copy())
    assert _cli(files, tmp_path / "out.png", image=str(grey)) == 0
    assert "note: grey.png: this painting is greyscale, so the region stays grey" in capsys.readouterr().out
    assert load_image(tmp_path / "out.png").pixels.shape[2] == 1  # one channel, as it came
    assert _cli(files, tmp_path / "colour.png") == 0
    assert "note:" not in capsys.readouterr().out


def test_cli_says_when_the_exemplar_region_is_too_small_to_hold_brushwork(files, tmp_path: Path, capsys) -> None:
    """A misclick that picks a speck as exemplar: the restyle runs (a flat colour in a fine pattern) and says why."""
    speck = np.zeros((H, W), bool)
    speck[10:13, 20:23] = True
    save_mask(tmp_path / "speck.png", speck)
    assert _cli(files, tmp_path / "out.png", **{"--exemplar-region": tmp_path / "speck.png"}) == 0
    out = capsys.readouterr().out
    # Named by the exemplar's file, not the painting's (the note is about the exemplar).
    assert "note: exemplar.png: the exemplar region has only 9 pixels, too few to hold brushwork" in out
    assert (tmp_path / "out.png").exists()


def test_cli_exemplar_may_be_the_image_itself(files, scene, tmp_path: Path) -> None:
    other = np.zeros((H, W), bool)
    other[0:25, 0:200] = True
    save_mask(tmp_path / "top.png", other)
    output = tmp_path / "self.png"
    assert _cli(files, output, **{"--exemplar": files["image"], "--exemplar-region": tmp_path / "top.png"}) == 0
    assert load_image(output).pixels.shape == scene["image"].shape


@pytest.mark.parametrize("case, message", [
    ("empty", "exemplar region mask"), ("missing", "no such file"), ("size", "but the image is"),
    ("second", "second exemplar needs its region"), ("mix", "a mix needs a second exemplar")])
def test_cli_errors_are_one_line_and_write_nothing(files, tmp_path: Path, capsys, case: str, message: str) -> None:
    changes: dict[str, object] = {}
    if case == "empty":
        save_mask(tmp_path / "empty.png", np.zeros((H, W), bool))
        changes["--exemplar-region"] = tmp_path / "empty.png"
    elif case == "missing":
        changes["--exemplar"] = tmp_path / "nowhere.png"
    elif case == "size":
        save_mask(tmp_path / "small.png", np.ones((H - 4, W), bool))
        changes["--region"] = tmp_path / "small.png"
    elif case == "mix":
        changes["--mix"] = "0.3"  # and no second exemplar: a mistake, not silently ignored
    else:
        changes["--second-exemplar"] = files["exemplar"]
    output = tmp_path / "never.png"
    assert _cli(files, output, **changes) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "\n" not in error and error.startswith("simnet restyle: error:")
    assert not output.exists()


def test_batch_runs_restyle_items_without_loading_simnet(files, tmp_path: Path, capsys, monkeypatch) -> None:
    from engine.commands import batch

    monkeypatch.setattr(batch, "manipulator_from_args",
                        lambda args: pytest.fail("a restyle-only batch must not load SIM-Net"))
    manifest = tmp_path / "batch.jsonl"
    lines = [{"op": "restyle", "image": "image.png", "region": "region.png", "exemplar": "exemplar.png",
              "exemplar_region": "exemplar_region.png", "output": "one.png", "strength": 0.5},
             {"op": "restyle", "image": "image.png", "region": "region.png", "exemplar": "nowhere.png",
              "exemplar_region": "exemplar_region.png", "output": "two.png"}]
    manifest.write_text("\n".join(json.dumps(line) for line in lines))
    assert main(["batch", str(manifest)]) == 2
    captured = capsys.readouterr()
    assert (tmp_path / "one.png").exists() and not (tmp_path / "two.png").exists()
    assert "line 2" in captured.err and "1 of 2 edits written" in captured.out
    image = load_image(files["image"]).pixels
    assert not np.array_equal(load_image(tmp_path / "one.png").pixels, image)


def test_batch_rejects_a_malformed_restyle_line(tmp_path: Path, capsys) -> None:
    manifest = tmp_path / "batch.jsonl"
    manifest.write_text(json.dumps({"op": "restyle", "image": "a.png", "output": "b.png"}))
    assert main(["batch", str(manifest)]) == 2
    assert "missing or non-text key(s): region, exemplar, exemplar_region" in capsys.readouterr().err


def test_a_restyle_is_one_undoable_history_step_saved_in_sessions(scene, tmp_path: Path) -> None:
    from engine.document import Document, StepKind
    from engine.imageio import Artwork
    from engine.restyle_pipeline import restyle_step
    from engine.session import EditSession, load_session, save_session

    image, region = scene["image"], scene["region"]
    doc = Document(EditSession(Artwork(image.copy())))
    doc.select(region)
    restyled = prepare_restyle(image, region, scene["exemplar"], scene["exemplar_region"])
    step, result = restyle_step(doc.session.current, restyled, region, 0.8)
    assert step is not None and step.label == "Restyle"
    doc.apply(step, result, region.copy())
    assert np.array_equal(doc.session.current, restyled.at_strength(0.8))
    assert doc.undo_kinds[-1] is StepKind.EDIT and doc.undo_label.endswith("Restyle")
    doc.undo()
    assert np.array_equal(doc.session.current, image)
    np.testing.assert_array_equal(doc.region, region)
    doc.redo()
    save_session(tmp_path / "restyled.simnet", doc.session)
    reopened = load_session(tmp_path / "restyled.simnet")
    assert np.array_equal(reopened.current, result) and reopened.steps[-1].label == "Restyle"
    assert restyle_step(image, restyled, region, 0.0)[0] is None  # strength 0 changes nothing: no step


def test_sixteen_bit_rgba_and_grey_images(scene) -> None:
    image16 = (scene["image"].astype(np.uint16) * 257)
    rgba = np.concatenate([image16, np.full((H, W, 1), 40000, np.uint16)], axis=2)
    grey_exemplar = cv2.cvtColor(scene["exemplar"], cv2.COLOR_RGB2GRAY)[..., None]
    out = restyle(rgba, scene["region"], grey_exemplar, scene["exemplar_region"], 1.0, reach=3)
    assert out.dtype == np.uint16 and out.shape == rgba.shape
    assert np.array_equal(out[..., 3], rgba[..., 3])  # alpha kept
    inside = out[scene["region"]][:, :3].astype(np.float32)
    assert np.abs(inside[:, 0] - inside[:, 2]).mean() < 0.02 * 65535  # the grey exemplar's colours: grey
    grey_out = restyle(grey_exemplar, scene["exemplar_region"], scene["image"], scene["region"], 1.0)
    assert grey_out.shape == grey_exemplar.shape and grey_out.dtype == np.uint8


def _detail_by_cell_phase(result: np.ndarray, step: float, bins: int = 6) -> np.ndarray:
    """The strength (standard deviation) of ``result``'s fine detail at each phase within the cells' lattice."""
    grey = result.astype(np.float32).mean(axis=2)
    detail = grey - cv2.GaussianBlur(grey, (0, 0), 3)
    inner = (slice(16, grey.shape[0] - 16), slice(16, grey.shape[1] - 16))
    ys, xs = np.mgrid[inner]
    phase_y, phase_x = ((ys / step) % 1 * bins).astype(int), ((xs / step) % 1 * bins).astype(int)
    power, count = np.zeros((bins, bins)), np.zeros((bins, bins))
    np.add.at(power, (phase_y, phase_x), detail[inner] ** 2)
    np.add.at(count, (phase_y, phase_x), 1)
    return np.sqrt(power / count)


def _large_region_small_exemplar(grain_sigma: float, size: int = 512) -> tuple[np.ndarray, np.ndarray, float]:
    """A ``size`` px painting with a smooth ramp (the region: all of it), a 96 px exemplar of a grain blurred by
    ``grain_sigma``, and the cells' size at full resolution (4 working pixels; 6 px)."""
    rng = np.random.default_rng(3)
    image = np.full((size, size, 3), 120, np.uint8)
    image[..., 0] = np.linspace(90, 150, size)[None, :].astype(np.uint8)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (96, 96)).astype(np.float32), (0, 0), grain_sigma)
    grain = np.clip(128 + grain / grain.std() * 30, 0, 255).astype(np.uint8)
    exemplar = np.dstack([grain, (grain * 0.8).astype(np.uint8), grain // 2])
    return image, exemplar, restyle_module.working_factor((size, size), [(0, 0, 96, 96)]) * 4


def test_a_small_exemplar_over_a_large_region_leaves_no_lattice(monkeypatch) -> None:
    """A 96 px exemplar serves a 512 px region: every exemplar cell is copied some 28 times. Copied cell-aligned and
    mixed plainly where cells meet, the copies' detail is 1.4x as strong at some places of the cells' lattice as at
    others (twice, before the cells alike took different exemplar cells), and the lattice shows; shifted piece by
    piece and mixed keeping the detail's variance, it is even (1.1x)."""
    image, exemplar, step = _large_region_small_exemplar(grain_sigma=1.0)
    region, exemplar_region = np.ones(image.shape[:2], bool), np.ones(exemplar.shape[:2], bool)

    def unevenness() -> float:
        strength = _detail_by_cell_phase(restyle(image, region, exemplar, exemplar_region), step)
        return float(strength.max() / strength.min())

    even = unevenness()
    monkeypatch.setattr(restyle_module, "JITTER", 0.0)
    monkeypatch.setattr(restyle_module, "VARIANCE_PRESERVING", False)
    assert even < 1.25 < unevenness()


def test_the_cells_borders_do_not_show_as_straight_edges(monkeypatch) -> None:
    """Copies of a coarse-grained exemplar meet at the cells' borders: mixed over half a cell, each copy keeps a flat
    middle and changes to its neighbour within a few pixels, so the lattice shows as straight edges (the painting's
    gradient across the borders is 1.6x what it is between them); mixed over the whole cell, it is even (1.3x)."""
    image, exemplar, step = _large_region_small_exemplar(grain_sigma=2.5)

    def border_contrast() -> float:
        grey = restyle(image, np.ones(image.shape[:2], bool), exemplar,
                       np.ones(exemplar.shape[:2], bool)).astype(np.float32)
        across = np.abs(np.diff(grey.mean(axis=2), axis=1))[16:-16, 16:-16]  # between columns x and x + 1
        bins = int(round(step))  # one a pixel
        phase = (((np.arange(across.shape[1]) + 17) / step) % 1 * bins).astype(int)
        profile = np.array([across[:, phase == k].mean() for k in range(bins)])
        return float(profile.max() / profile.min())

    even = border_contrast()
    monkeypatch.setattr(restyle_module, "SEAM_SHARE", 0.5)
    assert even < 1.45 < border_contrast()


def test_nothing_beyond_the_exemplar_region_is_copied() -> None:
    """The exemplar region is styled from whatever the rest of its painting is: a grain cut out alone, and the same
    grain as a region inside a painting of green and white stripes, restyle a large region alike (the copies that
    reach past the region's outline count for nothing there; they used to bring stripes and green, and a region
    touching its painting's edge a mirrored seam)."""
    rng = np.random.default_rng(5)
    image = np.full((384, 384, 3), 120, np.uint8)
    image[..., 0] = np.linspace(90, 150, 384)[None, :].astype(np.uint8)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (100, 120)).astype(np.float32), (0, 0), 1.5)
    grain = np.clip(140 + grain / grain.std() * 25, 0, 255)
    alone = np.dstack([grain, grain * 0.6, grain * 0.4]).astype(np.uint8)
    within = np.zeros((160, 200, 3), np.uint8)
    within[..., 1], within[:, ::3] = 200, 255
    within[30:130, 40:160] = alone
    within_region = np.zeros((160, 200), bool)
    within_region[30:130, 40:160] = True
    region = np.ones(image.shape[:2], bool)
    from_alone = restyle(image, region, alone, np.ones(alone.shape[:2], bool)).astype(np.int16)
    from_within = restyle(image, region, within, within_region).astype(np.int16)
    assert np.abs(from_alone - from_within).max() <= 2
    green = cv2.cvtColor(from_within.astype(np.uint8), cv2.COLOR_RGB2Lab)[..., 1] < 128
    assert not green.any()


def test_a_tiny_exemplar_region_is_copied_from_many_places() -> None:
    """A 60x40 px exemplar region restyling a 1024 px wide region: reduced by the same factor as the region's box
    to 256 px, it kept two cells to copy from and the result was a few blocks repeated over and over (61 % of its
    12 px patches had a near-twin elsewhere); matched at a finer scale, under 5 %."""
    rng = np.random.default_rng(7)
    image = np.zeros((600, 1024, 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = 40, 90, np.linspace(80, 200, 1024)[None, :].astype(np.uint8)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (120, 160)).astype(np.float32), (0, 0), 1.2)
    grain = np.clip(128 + grain / grain.std() * 40, 0, 255).astype(np.uint8)
    exemplar = np.dstack([grain, (grain * 0.7).astype(np.uint8), grain // 3])
    exemplar_region = np.zeros(grain.shape, bool)
    exemplar_region[40:80, 50:110] = True
    grey = restyle(image, np.ones(image.shape[:2], bool), exemplar, exemplar_region).astype(np.float32).mean(axis=2)
    detail = (grey - cv2.GaussianBlur(grey, (0, 0), 3))[16:-16, 16:-16]
    side = 12
    patches = np.array([detail[y:y + side, x:x + side].ravel() for y in range(0, detail.shape[0] - side, side)
                        for x in range(0, detail.shape[1] - side, side)])
    patches /= np.linalg.norm(patches, axis=1, keepdims=True) + 1e-6
    likeness = patches @ patches.T
    np.fill_diagonal(likeness, -1.0)
    assert (likeness.max(axis=1) > 0.9).mean() < 0.05
    assert restyle_module.working_factor((1024, 600), [(50, 40, 110, 80)]) == 1.0


def _brushed_exemplar(size: int = 200, seed: int = 4) -> np.ndarray:
    """Short strokes of random directions and tones over a light-to-dark ground: brushwork with no two places alike."""
    rng = np.random.default_rng(seed)
    canvas = np.repeat(np.linspace(70, 190, size, dtype=np.float32)[:, None], size, axis=1)
    for _ in range(size * size // 60):
        x, y = rng.uniform(0, size, 2)
        angle, length = rng.uniform(0, np.pi), rng.uniform(6, 16)
        dx, dy = np.cos(angle) * length / 2, np.sin(angle) * length / 2
        tone = float(canvas[int(y), int(x)] + rng.uniform(-40, 40))
        cv2.line(canvas, (int(x - dx), int(y - dy)), (int(x + dx), int(y + dy)), tone, 2)
    grey = np.clip(canvas, 0, 255).astype(np.uint8)
    return np.dstack([grey // 3, (grey * 0.7).astype(np.uint8), grey])


def _matched_cells(monkeypatch, image: np.ndarray, exemplar: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The exemplar cell (row-major in its grid) each cell of ``image`` (its whole area restyled from the whole
    ``exemplar``) copies, as the region's grid, and the exemplar's grid."""
    found = []
    correspond = restyle_module.correspond

    def recording(method, query, keys, query_cells, key_cells, marks=None):
        positions, peak = correspond(method, query, keys, query_cells, key_cells, marks)
        found.append((positions.reshape(query_cells.shape), key_cells.shape))
        return positions, peak

    monkeypatch.setattr(restyle_module, "correspond", recording)
    restyle(image, np.ones(image.shape[:2], bool), exemplar, np.ones(exemplar.shape[:2], bool))
    return found[0]


def _sky_ramp() -> np.ndarray:
    """A smooth sky: dark blue at the top to pale at the bottom, every row one colour (no texture of its own)."""
    image = np.zeros((320, 960, 3), np.uint8)
    image[..., 2] = np.linspace(200, 70, 320)[:, None].astype(np.uint8)
    image[..., 1], image[..., 0] = image[..., 2] // 2 + 30, 50
    return image


def test_cells_alike_copy_from_many_places(monkeypatch) -> None:
    """A smooth sky's row of cells is one tone and one look: each took the same best exemplar cell, and a re-use
    penalty counted from everyone's first choice moved them all to the same second best: up to 90 % of a row
    copied one exemplar cell, a row of one repeated mark across the sky. Choosing in turn, the penalty growing
    as they choose, no exemplar cell serves over a quarter of a row."""
    cells, _ = _matched_cells(monkeypatch, _sky_ramp(), _brushed_exemplar())
    most_common = [np.bincount(row).max() / row.size for row in cells]
    assert max(most_common) < 0.3 and np.mean(most_common) < 0.2


def test_the_regions_edges_do_not_take_the_exemplars_edges(monkeypatch) -> None:
    """On their convolutions' zero padding the cells along a box's edge look alike in both images; in a smooth
    region (its features standardised, so small differences count) every cell of its left column copied the
    exemplar's left column, a strip of other strokes down the region's side. Taken with mirrored context, the
    edge's cells copy from anywhere."""
    cells, key_grid = _matched_cells(monkeypatch, _sky_ramp(), _brushed_exemplar())
    columns, rows = cells % key_grid[1], cells // key_grid[1]
    assert (columns[:, 0] == 0).mean() < 0.25
    assert (columns[:, -1] == key_grid[1] - 1).mean() < 0.25
    assert (rows[0] == 0).mean() < 0.25 and (rows[-1] == key_grid[0] - 1).mean() < 0.25


def test_alike_rows_spread_over_their_nearly_best_exemplar_cells() -> None:
    """100 alike rows, five exemplar cells nearly as good (0.90 to 0.88) and five poor (0.2): the rows spread over
    the five good ones (a penalty counted once from everyone's first choice sent all 100 to the second best), never
    the poor ones; rows with a clear best of their own keep it."""
    from models.restyle.correspondence import spread_choices

    alike = np.tile(np.array([0.90, 0.895, 0.89, 0.885, 0.88, 0.2, 0.2, 0.2, 0.2, 0.2], np.float32), (100, 1))
    uses = np.bincount(spread_choices(alike, 10), minlength=10)
    assert uses[5:].sum() == 0 and uses[:5].max() <= 30 and (uses[:5] >= 10).all()
    distinct = np.full((10, 10), 0.1, np.float32)
    distinct[np.arange(10), np.arange(10)[::-1]] = 0.9
    assert (spread_choices(distinct, 10) == np.arange(10)[::-1]).all()


def starry_exemplar(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A sky of blue brushwork with one ringed yellow star (the only light thing in it), and the star's pixels."""
    height, width = 180, 300
    noise = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), sigmaX=8, sigmaY=2)
    ys, xs = np.mgrid[0:height, 0:width]
    exemplar = np.array([40, 80, 170]) + 70 * noise[..., None] * np.array([0.6, 0.8, 1.0])
    radius = np.hypot(xs - 90, ys - 80)
    star = radius < 24
    exemplar[star] = np.array([245, 225, 110]) * (0.8 + 0.2 * np.cos(radius[star] / 2.5))[:, None]
    return np.clip(exemplar, 0, 255).astype(np.uint8), star


def test_a_mark_of_the_exemplar_is_copied_once(monkeypatch) -> None:
    """A smooth sky six times the exemplar's size restyled from a sky with one star: the sky's lightest rows all
    wanted the exemplar's lightest cells, the star's, and it came across a row of copies along the horizon (the
    forty-eighth session's Starry Night sky). The star is a mark (its colour stands out from the cells around it):
    it is copied once, and its cells serve a few of the region's cells instead of ~200."""
    exemplar, star = starry_exemplar(np.random.default_rng(5))
    height, width = 450, 750
    ramp = np.linspace(0, 1, height)[:, None, None]
    image = np.clip((np.array([30, 60, 150.]) * (1 - ramp) + np.array([220, 225, 215.]) * ramp)
                    * np.ones((1, width, 1)), 0, 255).astype(np.uint8)

    def on_the_star() -> tuple[int, int]:
        positions, (grid_h, grid_w) = _matched_cells(monkeypatch, image, exemplar)
        star_cells = cv2.resize(star.astype(np.float32), (grid_w, grid_h), interpolation=cv2.INTER_AREA) > 0.5
        return int(star_cells.reshape(-1)[positions].sum()), int(star_cells.sum())

    once, star_cells = on_the_star()
    monkeypatch.setattr(restyle_module, "MARK_CONTRAST", float("inf"))  # no marks: the star is any other cell
    many, _ = on_the_star()
    assert once <= 3 * star_cells and many >= 4 * once


def test_a_mark_used_by_several_pieces_stays_in_the_largest() -> None:
    """single_marks: two pieces (cells copying with one offset) hold the same mark cell; the larger keeps it, the
    other's cell on it takes its best other match, and no cell takes a mark by a neighbour's shifted match."""
    from models.restyle.correspondence import single_marks

    keys = np.eye(6, dtype=np.float32)  # a 1 x 6 exemplar, cell 3 a mark
    marks = np.array([False, False, False, True, False, False])
    query_cells = np.ones((1, 9), bool)
    key_cells = np.ones((1, 6), bool)
    # cells 0-3 copy exemplar cells 0-3 (one piece of four, the mark at its end); cells 6-7 copy 2-3 (a piece of two)
    positions = np.array([0, 1, 2, 3, 4, 5, 2, 3, 4])
    query = keys[positions].copy()
    query[7] = 0.9 * keys[3] + 0.3 * keys[5]  # its best other match: cell 5
    query = query / np.linalg.norm(query, axis=1, keepdims=True)
    after = single_marks(positions, query, keys, query_cells, key_cells, marks)
    assert (after == 3).sum() == 1 and after[3] == 3
    assert after[7] == 5 and (after[:7] == positions[:7]).all()
