"""The simnet command line: a real edit, batch, and every error path (one line, exit 2, no file)."""
from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.imageio import load_image, save_image, save_mask

SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"


@pytest.fixture()
def small_job(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    image = (rng.random((80, 100, 3)) * 255).astype(np.uint8)
    ys, xs = np.mgrid[0:80, 0:100]
    source = (xs - 40) ** 2 + (ys - 40) ** 2 < 12**2
    target = (xs - 50) ** 2 + (ys - 38) ** 2 < 14**2
    paths = {"image": tmp_path / "art.png", "source": tmp_path / "s.png", "target": tmp_path / "t.png",
             "out": tmp_path / "out.png"}
    save_image(paths["image"], image)
    save_mask(paths["source"], source)
    save_mask(paths["target"], target)
    return paths


def edit_args(job: dict[str, Path], **overrides: str) -> list[str]:
    paths = {key: str(value) for key, value in job.items()} | overrides
    return ["edit", paths["image"], "--source-mask", paths["source"], "--target-mask", paths["target"],
            "-o", paths["out"], "--device", "cpu"]


def test_edit_writes_full_resolution_result(small_job, capsys) -> None:
    assert main(edit_args(small_job)) == 0
    result = load_image(small_job["out"]).pixels
    original = load_image(small_job["image"]).pixels
    assert result.shape == original.shape
    assert not np.array_equal(result, original)
    assert re.search(r"wrote .*out.png: area \d+x\d+ at .*, edit [0-9.]+ s on cpu, write [0-9.]+ s", capsys.readouterr().out)


def test_edit_by_pins_bends_the_region_and_follows_the_pins(small_job, capsys) -> None:
    from engine.imageio import load_mask
    from engine.manipulator import Manipulator
    from engine.mask_warp import pin_warp
    from engine.pipeline import bent_by_pins, read_inputs
    from engine.shape_motion import Pins, ShapeMotion

    pins = ["30,40:30,40", "40,40:40,40", "50,40:52,30"]
    argv = ["edit", str(small_job["image"]), "--source-mask", str(small_job["source"]), "-o", str(small_job["out"]),
            "--device", "cpu"] + [part for value in pins for part in ("--pin", value)]
    assert main(argv) == 0 and "wrote" in capsys.readouterr().out
    source, image = load_mask(small_job["source"]), load_image(small_job["image"]).pixels
    before, after = [(30.0, 40.0), (40.0, 40.0), (50.0, 40.0)], [(30.0, 40.0), (40.0, 40.0), (52.0, 30.0)]
    inputs = bent_by_pins(read_inputs(small_job["image"], small_job["source"], small_job["source"],
                                      small_job["out"], overwrite_original=True), before, after)
    np.testing.assert_array_equal(inputs.target, pin_warp(source, before, after))
    assert inputs.shape_motion == ShapeMotion((Pins(tuple(before), tuple(after)),))
    expected = Manipulator(device="cpu").edit(image, source, inputs.target, shape_motion=inputs.shape_motion).image
    np.testing.assert_array_equal(load_image(small_job["out"]).pixels, expected)
    # a pin needs both places; the target mask and pins exclude each other; pins off the painting refused
    with pytest.raises(SystemExit):
        main(argv[:-2] + ["--pin", "50,40"])
    assert "X,Y:X2,Y2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(argv + ["--target-mask", str(small_job["target"])])
    assert "not allowed with argument" in capsys.readouterr().err
    small_job["out"].unlink()
    assert main(argv[:8] + ["--pin", "40,40:4000,40"]) == 2  # bad input: exit status 2, as every refused input
    assert "off the painting" in capsys.readouterr().err and not small_job["out"].exists()


def test_edit_reach_bounds_what_changes(small_job, capsys) -> None:
    """--reach 3: every pixel farther than 3 px from both masks is the input's; a negative reach is refused."""
    from engine.imageio import load_mask
    from engine.locality import edit_area

    assert main(edit_args(small_job) + ["--reach", "3"]) == 0
    assert "reach 3 px" in capsys.readouterr().out
    result, original = load_image(small_job["out"]).pixels, load_image(small_job["image"]).pixels
    source, target = load_mask(small_job["source"]), load_mask(small_job["target"])
    outside = ~edit_area(source, target, 3.0)
    np.testing.assert_array_equal(result[outside], original[outside])
    assert not np.array_equal(result, original)
    small_job["out"].unlink()
    assert main(edit_args(small_job) + ["--reach", "-1"]) == 2
    assert "--reach must be" in capsys.readouterr().err
    assert not small_job["out"].exists()
    for reach, said in (("0.5", "reach 0.5 px"), ("-0", "reach 0 px"), ("2.25", "reach 2.25 px")):  # said as given
        assert main(edit_args(small_job) + ["--reach", reach]) == 0  # (0.5 was said as 0 px, -0 as -0 px)
        assert said in capsys.readouterr().out



def test_edit_resampling_bicubic_keeps_more_of_the_grain(small_job, capsys) -> None:
    """--resampling bicubic: the region grown by a sixth keeps more of its fine grain than the bilinear default,
    and the edit stays within its reach all the same; an unknown resampling is refused by the parser."""
    from engine.imageio import load_mask
    from engine.locality import edit_area

    original = load_image(small_job["image"]).pixels
    source, target = load_mask(small_job["source"]), load_mask(small_job["target"])
    grain = {}
    for resampling in ("bilinear", "bicubic"):
        out = small_job["out"].with_name(f"{resampling}.png")
        assert main(edit_args(small_job, out=str(out)) + ["--resampling", resampling, "--reach", "3"]) == 0
        result = load_image(out).pixels
        outside = ~edit_area(source, target, 3.0)
        np.testing.assert_array_equal(result[outside], original[outside])
        inner = target & ~edit_area(~target, np.zeros_like(target), 3.0)  # the new shape, 3 px in from its edge
        grain[resampling] = float(result[inner].astype(np.float64).std())
    assert grain["bicubic"] > 1.05 * grain["bilinear"]
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(edit_args(small_job) + ["--resampling", "lanczos"])
    assert "invalid choice" in capsys.readouterr().err

def test_edit_on_the_shipped_sample(tmp_path: Path) -> None:
    out = tmp_path / "edited.png"
    code = main(["edit", str(SAMPLES / "starry_night.jpg"), "--source-mask", str(SAMPLES / "starry_night_source.png"),
                 "--target-mask", str(SAMPLES / "starry_night_target.png"), "-o", str(out), "--device", "cpu"])
    assert code == 0
    assert load_image(out).pixels.shape == (640, 1024, 3)


@pytest.mark.parametrize("case,message", [
    ("missing_image", "no such file"),
    ("corrupt_image", "damaged or truncated"),
    ("empty_image", "empty (0 bytes)"),
    ("mismatched_mask", "mask"),
    ("empty_source", "source mask is empty"),
    ("overwrite_original", "is the original artwork"),
    ("bad_checkpoint", "not a PyTorch file"),
    ("bad_extension", "cannot write '.bmp' files"),
])
def test_edit_errors_are_one_line_and_write_nothing(small_job, tmp_path: Path, capsys, case: str, message: str) -> None:
    overrides: dict[str, str] = {}
    extra: list[str] = []
    if case == "missing_image":
        overrides["image"] = str(tmp_path / "nope.png")
    elif case == "corrupt_image":
        data = small_job["image"].read_bytes()
        (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
        overrides["image"] = str(tmp_path / "cut.png")
    elif case == "empty_image":
        (tmp_path / "zero.png").write_bytes(b"")
        overrides["image"] = str(tmp_path / "zero.png")
    elif case == "mismatched_mask":
        save_mask(tmp_path / "small.png", np.ones((10, 10), bool))
        overrides["source"] = str(tmp_path / "small.png")
    elif case == "empty_source":
        save_mask(tmp_path / "blank.png", np.zeros((80, 100), bool))
        overrides["source"] = str(tmp_path / "blank.png")
    elif case == "overwrite_original":
        overrides["out"] = str(small_job["image"])
    elif case == "bad_checkpoint":
        (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
        extra = ["--checkpoint", str(tmp_path / "bad.pt")]
    elif case == "bad_extension":
        overrides["out"] = str(tmp_path / "out.bmp")
    before = small_job["image"].read_bytes()
    assert main(edit_args(small_job, **overrides) + extra) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
    assert not small_job["out"].exists() and not (tmp_path / "out.bmp").exists()
    assert small_job["image"].read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_running_out_of_memory_is_one_line(small_job, monkeypatch, capsys) -> None:
    """An edit too large for the machine's memory ends with one line, not a traceback, and writes nothing."""
    from engine.manipulator import Manipulator

    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 37.3 GiB for an array with shape (100000, 100000)")

    monkeypatch.setattr(Manipulator, "edit", exhausted)
    assert main(edit_args(small_job)) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("simnet edit: error: out of memory (Unable to allocate 37.3 GiB") and "\n" not in error
    assert not small_job["out"].exists()


def test_console_script_prints_no_traceback(tmp_path: Path) -> None:
    process = subprocess.run([sys.executable, "-m", "engine.cli", "edit", str(tmp_path / "missing.png"),
                              "--source-mask", "a.png", "--target-mask", "b.png", "-o", str(tmp_path / "o.png")],
                             capture_output=True, text=True, timeout=300)
    assert process.returncode == 2
    assert process.stderr.strip().startswith("simnet edit: error:") and "Traceback" not in process.stderr


def test_batch_loads_once_and_reports_failures(small_job, tmp_path: Path, capsys) -> None:
    manifest = tmp_path / "jobs.jsonl"
    good = {"image": "art.png", "source_mask": "s.png", "target_mask": "t.png", "output": "b1.png"}
    bad = dict(good, image="missing.png", output="b2.png")
    manifest.write_text(json.dumps(good) + "\n\n" + json.dumps(bad) + "\n")
    assert main(["batch", str(manifest), "--device", "cpu"]) == 2
    captured = capsys.readouterr()
    assert "[1/2]" in captured.out and "1 of 2 edits written" in captured.out
    assert re.search(r"\[1/2\] art.png -> .*b1.png \([0-9.]+ s: read [0-9.]+, edit [0-9.]+, write [0-9.]+\)", captured.out)
    assert "line 3" in captured.err
    assert (tmp_path / "b1.png").exists() and not (tmp_path / "b2.png").exists()


def test_batch_rejects_a_malformed_manifest(tmp_path: Path, capsys) -> None:
    manifest = tmp_path / "jobs.jsonl"
    manifest.write_text('{"image": "a.png"}\n')
    assert main(["batch", str(manifest)]) == 2
    assert "missing or non-text key(s): source_mask, target_mask, output" in capsys.readouterr().err


def test_a_manifest_saved_by_windows_notepad_is_read(small_job, tmp_path: Path, capsys) -> None:
    """A manifest with a UTF-8 byte-order mark and CRLF line ends (Notepad's) runs; it was refused as "not valid
    JSON (Unexpected UTF-8 BOM (decode using utf-8-sig))". One in UTF-16 is said to be no UTF-8 text."""
    line = json.dumps({"image": "art.png", "source_mask": "s.png", "target_mask": "t.png", "output": "b1.png"})
    manifest = tmp_path / "notepad.jsonl"
    manifest.write_bytes(b"\xef\xbb\xbf" + line.encode() + b"\r\n")
    assert main(["batch", str(manifest), "--device", "cpu"]) == 0
    assert "1 of 1 edits written" in capsys.readouterr().out and (tmp_path / "b1.png").exists()
    manifest.write_bytes(line.encode("utf-16"))
    assert main(["batch", str(manifest)]) == 2
    assert "it is not UTF-8 text (save it as UTF-8)" in capsys.readouterr().err


def test_a_batch_line_may_set_its_own_reach_and_unknown_keys_are_refused(small_job, tmp_path: Path, capsys) -> None:
    """``"reach"`` on an edit or remove line is that edit's --reach; a key no line takes (a misspelt option)
    refuses the manifest before anything is written, naming the key and what the line takes."""
    manifest = tmp_path / "jobs.jsonl"
    edit = {"image": "art.png", "source_mask": "s.png", "target_mask": "t.png"}
    lines = [dict(edit, output="wide.png", reach=25), dict(edit, output="default.png"),
             {"op": "remove", "image": "art.png", "region": "s.png", "output": "removed.png", "reach": 12}]
    manifest.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert main(["batch", str(manifest), "--device", "cpu", "--reach", "5"]) == 0
    for name, extra in (("wide.png", ["--reach", "25"]), ("default.png", ["--reach", "5"]),
                        ("removed.png", ["--reach", "12", "--remove"])):
        args = (["edit", str(small_job["image"]), "--source-mask", str(small_job["source"]), "-o", str(small_job["out"]),
                 "--device", "cpu"] + ([] if "--remove" in extra else ["--target-mask", str(small_job["target"])])
                + extra)
        assert main(args) == 0
        np.testing.assert_array_equal(load_image(tmp_path / name).pixels, load_image(small_job["out"]).pixels)
    assert not np.array_equal(load_image(tmp_path / "wide.png").pixels, load_image(tmp_path / "default.png").pixels)
    capsys.readouterr()
    for entry, message in ((dict(edit, output="x.png", reahc=25), "unknown key(s) 'reahc' on this edit line; it takes"),
                           ({"op": "remove", "image": "art.png", "region": "s.png", "output": "x.png",
                             "strength": 1}, "unknown key(s) 'strength' on this remove line"),
                           (dict(edit, output="x.png", reach="wide"), "reach must be a number"),
                           (dict(edit, output="x.png", reach=-3), "reach must be a distance of 0 pixels or more"),
                           (dict(edit, output="x.png", op=["edit"]), "unknown op")):
        manifest.write_text(json.dumps(dict(edit, output="first.png")) + "\n" + json.dumps(entry) + "\n")
        assert main(["batch", str(manifest), "--device", "cpu"]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "first.png").exists() and not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("pins, message", [
    (["40,40:50,40", "40,40:30,45"], "two pins at (40, 40) are dragged to two different places"),
    (["40,40:nan,40"], "a pin's places must be finite numbers"),  # it said "the pins take the whole region off"
    (["40,40:50,40", "400,40:40,40"], "a pin at (400, 40) is outside the 100x80 painting"),  # the same
])
def test_contradictory_or_undefined_pins_are_refused(small_job, capsys, pins: list[str], message: str) -> None:
    argv = ["edit", str(small_job["image"]), "--source-mask", str(small_job["source"]), "-o", str(small_job["out"]),
            "--device", "cpu"] + [part for pin in pins for part in ("--pin", pin)]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert not small_job["out"].exists()


def test_batch_bends_by_pins_as_simnet_edit_does(small_job, tmp_path: Path, capsys) -> None:
    pins = [[30, 40, 30, 40], [40, 40, 40, 40], [50, 40, 52, 30]]
    manifest = tmp_path / "jobs.jsonl"
    lines = [{"image": "art.png", "source_mask": "s.png", "pins": pins, "output": "bent.png"},
             {"image": "art.png", "source_mask": "s.png", "pins": [[40, 40, 4000, 40]], "output": "gone.png"}]
    manifest.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert main(["batch", str(manifest), "--device", "cpu"]) == 2
    captured = capsys.readouterr()
    assert "1 of 2 edits written" in captured.out and "off the painting" in captured.err
    argv = ["edit", str(small_job["image"]), "--source-mask", str(small_job["source"]), "-o", str(small_job["out"]),
            "--device", "cpu"] + [part for x, y, x2, y2 in pins for part in ("--pin", f"{x},{y}:{x2},{y2}")]
    assert main(argv) == 0
    np.testing.assert_array_equal(load_image(tmp_path / "bent.png").pixels, load_image(small_job["out"]).pixels)
    for entry, message in (({"image": "a.png", "source_mask": "s.png", "target_mask": "t.png", "pins": pins,
                             "output": "o.png"}, "not both"),
                           ({"image": "a.png", "source_mask": "s.png", "pins": [[1, 2, 3]], "output": "o.png"},
                            "pins must be a list of [x, y, x2, y2]")):
        manifest.write_text(json.dumps(entry) + "\n")
        assert main(["batch", str(manifest)]) == 2
        assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv, first_work", [
    (["eval", "--json", "{missing}/scores.json"], "engine.evaluation.dataset.build_edits"),
    (["eval", "--figure", "{missing}/examples.png"], "engine.evaluation.dataset.build_edits"),
    (["eval-fill", "--quick", "--json", "{missing}/fill.json"], "engine.evaluation.fill_cases.build_cases"),
    (["eval-restyle", "--json", "{missing}/restyle.json"], "engine.evaluation.restyle_eval.build_pairs"),
    (["eval-segment", "--json", "{missing}/segment.json"], "engine.segmentation.load_segmenter"),
    (["segment", "{art}", "--point", "5,5", "-o", "{missing}/mask.png"], "engine.imageio.load_image"),
    (["edit", "{art}", "--source-mask", "{source}", "--target-mask", "{target}", "-o", "{missing}/out.png"],
     "engine.pipeline.load_image"),
    (["restyle", "{art}", "--region", "{source}", "--exemplar", "{art}", "--exemplar-region", "{target}",
      "-o", "{missing}/out.png"], "engine.restyle_pipeline.load_image"),
])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(small_job, tmp_path: Path, monkeypatch, capsys,
                                                                     argv: list[str], first_work: str) -> None:
    """An output in a folder that does not exist is refused in one line before the command starts its work: an
    evaluation found out after its whole run (minutes to hours), an edit after the edit."""
    module, name = first_work.rsplit(".", 1)
    monkeypatch.setattr(importlib.import_module(module), name,
                        lambda *args, **kwargs: pytest.fail(f"{first_work} ran before the output was checked"))
    places = {"missing": str(tmp_path / "no such folder"), "art": str(small_job["image"]),
              "source": str(small_job["source"]), "target": str(small_job["target"])}
    assert main([part.format(**places) for part in argv]) == 2
    error = capsys.readouterr().err.strip()
    assert "the folder" in error and "does not exist" in error and len(error.splitlines()) == 1


@pytest.mark.parametrize("command", ["train", "segment-train"])
def test_a_training_out_that_is_a_file_is_refused_in_one_line(command: str, small_job, capsys) -> None:
    """`--out` naming a file, or a folder under a file, is refused before any data is read (it ended in
    FileExistsError or NotADirectoryError tracebacks after the photos were read)."""
    data = small_job["image"].parent / "bsds"
    for part in ("images", "groundTruth"):
        (data / part).mkdir(parents=True)
    for out, said in ((small_job["image"], "is a file, not a folder"), (small_job["image"] / "run", "lies under the file")):
        assert main([command, "--data", str(data), "--out", str(out)]) == 2
        error = capsys.readouterr().err.strip()
        assert said in error and len(error.splitlines()) == 1


def test_an_output_naming_an_input_other_than_the_artwork_is_refused(small_job, tmp_path: Path, capsys) -> None:
    """-o naming a mask or an exemplar is refused, whatever --overwrite-original says (that flag is for the
    artwork): the exemplar or the mask was written over without a word. An exemplar that is the artwork itself
    may be written over with the flag, as the artwork."""
    art, source, target = (str(small_job[name]) for name in ("image", "source", "target"))
    exemplar = tmp_path / "exemplar.png"
    exemplar.write_bytes(small_job["image"].read_bytes())
    before = {path: Path(path).read_bytes() for path in (source, target, str(exemplar))}
    for argv, said in (
            (["edit", art, "--source-mask", source, "--target-mask", target, "-o", source], "is the source mask"),
            (["edit", art, "--source-mask", source, "--target-mask", target, "-o", target], "is the target mask"),
            (["edit", art, "--source-mask", source, "--remove", "-o", source], "is the region mask"),
            (["restyle", art, "--region", source, "--exemplar", str(exemplar), "--exemplar-region", target,
              "-o", str(exemplar), "--overwrite-original"], "is the exemplar")):
        assert main(argv) == 2
        error = capsys.readouterr().err.strip()
        assert said + ", an input of this edit" in error and len(error.splitlines()) == 1
    assert all(Path(path).read_bytes() == content for path, content in before.items())
    assert main(["restyle", art, "--region", source, "--exemplar", art, "--exemplar-region", target, "-o", art,
                 "--overwrite-original"]) == 0
    painting = small_job["image"].read_bytes()
    for mode in (["--point", "40,40"], ["--auto"]):  # a mask written over the painting itself
        assert main(["segment", art, *mode, "-o", art]) == 2
        assert "is the artwork itself; choose another output for the mask" in capsys.readouterr().err
    assert small_job["image"].read_bytes() == painting
