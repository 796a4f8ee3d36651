"""simnet batch's runner (engine/batch_runner.py): files read ahead and written behind the edits,
with the same results, order and errors as one edit after another."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from engine import batch_runner
from engine.batch_runner import FileEdit, run_batch
from engine.errors import SimNetError
from engine.imageio import load_image, load_mask, save_image, save_mask
from engine.manipulator import Manipulator
from engine.pipeline import edit_file, read_inputs


@pytest.fixture(scope="module")
def manipulator() -> Manipulator:
    return Manipulator(device="cpu")


def disc(cx: float, cy: float, radius: float, shape: tuple[int, int] = (80, 100)) -> np.ndarray:
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    return (xs - cx) ** 2 + (ys - cy) ** 2 < radius**2


@pytest.fixture()
def job(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(1)
    save_image(tmp_path / "art.png", (rng.random((80, 100, 3)) * 255).astype(np.uint8))
    save_mask(tmp_path / "s.png", disc(40, 40, 12))
    save_mask(tmp_path / "t.png", disc(50, 38, 14))
    save_mask(tmp_path / "t2.png", disc(58, 42, 13))
    save_mask(tmp_path / "empty.png", np.zeros((80, 100), bool))
    return {name: tmp_path / f"{name}.png" for name in ("art", "s", "t", "t2", "empty")}


def collect(manipulator: Manipulator, edits: list[FileEdit], **options) -> tuple[int, list]:
    reports: list = []
    failures = run_batch(manipulator, edits, lambda index, outcome: reports.append((index, outcome)), **options)
    return failures, reports


def test_results_and_order_are_those_of_one_edit_after_another(manipulator, job, tmp_path: Path) -> None:
    outputs = [tmp_path / f"out{index}.png" for index in range(3)]
    targets = [job["t"], job["t2"], job["t"]]
    edits = [FileEdit(job["art"], job["s"], target, output) for target, output in zip(targets, outputs)]
    failures, reports = collect(manipulator, edits)
    assert failures == 0 and [index for index, _ in reports] == [0, 1, 2]
    assert all(set(outcome.timings) >= {"read", "total", "write"} for _, outcome in reports)
    for target, output in zip(targets, outputs):
        alone = tmp_path / "alone.png"
        edit_file(manipulator, job["art"], job["s"], target, alone)
        assert output.read_bytes() == alone.read_bytes()


def test_an_item_that_reads_an_earlier_output_waits_for_it(manipulator, job, tmp_path: Path) -> None:
    """A chained manifest: the second edit starts from the first one's result, not from a file
    that is still being written or not there yet."""
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    save_mask(tmp_path / "moved.png", disc(50, 38, 14))
    edits = [FileEdit(job["art"], job["s"], job["t"], first), FileEdit(first, tmp_path / "moved.png", job["t2"], second)]
    failures, _ = collect(manipulator, edits)
    assert failures == 0
    chained = tmp_path / "chained.png"
    edit_file(manipulator, first, tmp_path / "moved.png", job["t2"], chained)
    assert second.read_bytes() == chained.read_bytes()


def test_errors_are_reported_in_order_and_the_rest_goes_on(manipulator, job, tmp_path: Path) -> None:
    edits = [FileEdit(job["art"], job["s"], job["t"], tmp_path / "a.png"),
             FileEdit(tmp_path / "missing.png", job["s"], job["t"], tmp_path / "b.png"),  # cannot read
             FileEdit(job["art"], job["s"], job["empty"], tmp_path / "c.png"),  # the region would vanish
             FileEdit(job["art"], job["s"], job["t"], tmp_path / "no" / "such" / "folder" / "d.png"),  # cannot write
             FileEdit(job["art"], job["s"], job["t2"], tmp_path / "e.png")]
    failures, reports = collect(manipulator, edits)
    assert failures == 3
    assert [index for index, _ in reports] == [0, 1, 2, 3, 4]
    assert [isinstance(outcome, SimNetError) for _, outcome in reports] == [False, True, True, True, False]
    assert (tmp_path / "a.png").exists() and (tmp_path / "e.png").exists()
    assert not (tmp_path / "b.png").exists() and not (tmp_path / "c.png").exists()


def test_stop_on_error_writes_nothing_after_the_failure(manipulator, job, tmp_path: Path) -> None:
    edits = [FileEdit(job["art"], job["s"], job["t"], tmp_path / "a.png"),
             FileEdit(job["art"], job["s"], job["empty"], tmp_path / "b.png"),
             FileEdit(job["art"], job["s"], job["t2"], tmp_path / "c.png")]
    failures, reports = collect(manipulator, edits, stop_on_error=True)
    assert failures == 1 and [index for index, _ in reports] == [0, 1]
    assert (tmp_path / "a.png").exists() and not (tmp_path / "c.png").exists()


def test_the_next_file_is_read_while_an_edit_runs(manipulator, job, tmp_path: Path, monkeypatch) -> None:
    """The overlap itself: the first edit waits until the second item's files are being read; run
    one after another, it would wait in vain."""
    second_read = threading.Event()
    real_read = batch_runner.read_inputs

    def read(image, source, target, output, **options):
        if Path(output).name == "b.png":
            second_read.set()
        return real_read(image, source, target, output, **options)

    real_edit = manipulator.edit
    overlapped = []

    def edit(*args, **kwargs):
        if not overlapped:
            overlapped.append(second_read.wait(timeout=30))
        return real_edit(*args, **kwargs)

    monkeypatch.setattr(batch_runner, "read_inputs", read)
    monkeypatch.setattr(manipulator, "edit", edit)
    edits = [FileEdit(job["art"], job["s"], job["t"], tmp_path / "a.png"),
             FileEdit(job["art"], job["s"], job["t2"], tmp_path / "b.png")]
    failures, _ = collect(manipulator, edits)
    assert failures == 0 and overlapped == [True]
    assert load_image(tmp_path / "b.png").pixels.shape == (80, 100, 3)


def test_the_artwork_is_decoded_while_its_own_edit_finds_the_motion(manipulator, job, tmp_path: Path,
                                                                      monkeypatch) -> None:
    """The decode of an item's pixels overlaps with its own network and alignment: here the decode
    cannot finish until the network has run, and the result is still that of an edit of the
    decoded pixels."""
    from engine import pipeline

    network_ran = threading.Event()
    real_decode, real_network = pipeline.decode_image, manipulator._run_network
    waited = []

    def decode(*args, **kwargs):
        waited.append(network_ran.wait(timeout=30))
        return real_decode(*args, **kwargs)

    def network(*args, **kwargs):
        network_ran.set()
        return real_network(*args, **kwargs)

    monkeypatch.setattr(pipeline, "decode_image", decode)
    monkeypatch.setattr(manipulator, "_run_network", network)
    failures, reports = collect(manipulator, [FileEdit(job["art"], job["s"], job["t"], tmp_path / "a.png")])
    assert failures == 0 and waited == [True]
    assert "pixels wait" not in reports[0][1].timings and reports[0][1].timings["read"] > 0
    monkeypatch.undo()
    direct = manipulator.edit(load_image(job["art"]).pixels, load_mask(job["s"]), load_mask(job["t"]))
    np.testing.assert_array_equal(load_image(tmp_path / "a.png").pixels, direct.image)


def test_errors_found_while_the_edit_runs_are_those_of_a_read_first(manipulator, job, tmp_path: Path) -> None:
    """Damaged pixel data behind a good header, a mask of another size, and both an unreadable
    artwork and an unreadable mask: the same errors as when everything is read before the edit."""
    data = job["art"].read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    save_mask(tmp_path / "small.png", np.ones((10, 10), bool))
    (tmp_path / "bad_mask.png").write_bytes(b"not a mask")
    cases = [(tmp_path / "cut.png", job["s"], job["t"]), (job["art"], tmp_path / "small.png", job["t"]),
             (job["art"], job["s"], tmp_path / "small.png"), (tmp_path / "cut.png", tmp_path / "bad_mask.png", job["t"])]
    edits = [FileEdit(*case, tmp_path / f"out{index}.png") for index, case in enumerate(cases)]
    failures, reports = collect(manipulator, edits)
    assert failures == len(cases)
    for (index, error), case in zip(reports, cases):
        with pytest.raises(SimNetError) as expected:
            read_inputs(*case, tmp_path / "alone.png")
        assert type(error) is type(expected.value) and str(error) == str(expected.value), index
        assert not (tmp_path / f"out{index}.png").exists()
