"""Many file edits in a row, with reading and writing overlapped with the edits (``simnet batch``).

A batch edit spends about half its time decoding and encoding files. Those stages release the
interpreter lock (Pillow's decoder, zlib), so while item *i* is edited a reader thread decodes
item *i + 1* and a writer thread encodes item *i - 1*. An item's artwork is decoded in a thread
of its own while its masks are read, and its edit starts before the pixels are there: the
network and the alignment need the masks alone (``engine.pipeline.read_inputs``), so even the
first item's decode overlaps with its edit. At most one item is read ahead and one is being
written, so memory stays bounded at three artworks (four while an artwork is still decoding). An item that reads a file an earlier
item writes (a chained manifest) waits for that write before it is read. Results and errors are
reported in the manifest's order, exactly as a one-by-one loop would report them.
"""
from __future__ import annotations

import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, TypeVar

from engine.errors import SimNetError
from engine.pipeline import EditInputs, UnchangedStrips, bent_by_pins, read_inputs, resolved_path, write_result
from engine.restyle_pipeline import FileRestyle, RestyleOutcome, read_restyle, run_restyle, write_restyle

if TYPE_CHECKING:  # a restyle-only batch never loads SIM-Net (torch)
    from engine.manipulator import EditResult, Manipulator
    from engine.removal import Removal

T = TypeVar("T")


@dataclass(frozen=True)
class FileEdit:
    """One edit of a batch: an artwork, its two masks and where the result goes; or, with ``pins`` ((x, y),
    (x2, y2) pairs), the region bent by them (``engine.pipeline.bent_by_pins``; ``target_mask`` is then not
    read); or, with ``remove``, the region removed (``engine.removal``; ``target_mask`` is the region).
    ``reach``: this edit's transition width, in place of the batch's."""

    image: Path
    source_mask: Path
    target_mask: Path
    output: Path
    pins: tuple[tuple[tuple[float, float], tuple[float, float]], ...] | None = None
    remove: bool = False
    reach: float | None = None

    def reads(self) -> set[Path]:
        return {resolved_path(self.image), resolved_path(self.source_mask), resolved_path(self.target_mask)}


#: Called in order for each item: its index, then its result (timings with "read" and "write")
#: or the error that stopped it.
Report = Callable[[int, "EditResult | RestyleOutcome | Removal | SimNetError"], None]


def _timed(stage: Callable[[], T]) -> Callable[[], tuple[T, float]]:
    def run() -> tuple[T, float]:
        started = time.perf_counter()
        return stage(), time.perf_counter() - started
    return run


def _outcome(future: Future) -> tuple[EditInputs, float] | SimNetError:
    try:
        return future.result()
    except SimNetError as error:
        return error


def _read_edit(edit: FileEdit, decoder: Executor) -> EditInputs:
    """Read one reshape's files (its artwork decoded by ``decoder``), its new shape bent by its pins if it has them."""
    if edit.pins is None:
        return read_inputs(edit.image, edit.source_mask, edit.target_mask, edit.output, decoder=decoder)
    inputs = read_inputs(edit.image, edit.source_mask, edit.source_mask, edit.output, decoder=decoder)
    return bent_by_pins(inputs, [start for start, _ in edit.pins], [end for _, end in edit.pins])


def run_batch(manipulator: Manipulator | None, edits: Sequence[FileEdit | FileRestyle], report: Report, *,
              reach: float | None = None, stop_on_error: bool = False, resampling: str = "bilinear") -> int:
    """Edit every item (a reshape or a removal, :class:`FileEdit`, or a restyle, :class:`FileRestyle`; the
    manipulator may be None when there are no reshapes) and write its result atomically
    (colour profile and metadata carried over); returns how many failed. ``report`` gets each
    item's outcome in the manifest's order. With ``stop_on_error`` the batch stops at the first
    failure, and nothing after it is written. ``reach`` and ``resampling`` go to every reshape."""
    failures = 0
    stopped = False
    with ThreadPoolExecutor(1, thread_name_prefix="batch-read") as reader, \
            ThreadPoolExecutor(1, thread_name_prefix="batch-decode") as decoder, \
            ThreadPoolExecutor(1, thread_name_prefix="batch-write") as writer:
        writing: tuple[int, Future, EditResult | RestyleOutcome] | None = None

        def settle() -> None:
            """Wait for the write in flight and report its item."""
            nonlocal writing, failures, stopped
            if writing is None:
                return
            index, future, result = writing
            writing = None
            try:
                _, result.timings["write"] = future.result()
            except SimNetError as error:
                failures += 1
                stopped = stop_on_error
                report(index, error)
                return
            report(index, result)

        def start_read(index: int) -> Future:
            edit = edits[index]
            if isinstance(edit, FileRestyle):
                return reader.submit(_timed(lambda: read_restyle(edit)))
            return reader.submit(_timed(lambda: _read_edit(edit, decoder)))

        def unwritten(index: int) -> set[Path]:
            """The outputs of this item and of the one still being written."""
            outputs = {resolved_path(edits[index].output)}
            return outputs | ({resolved_path(edits[writing[0]].output)} if writing is not None else set())

        reading = start_read(0) if edits else None
        for index in range(len(edits)):
            if reading is None:  # not read ahead: it reads a file an earlier item was writing
                settle()
                if stopped:
                    break
                reading = start_read(index)
            outcome, reading = _outcome(reading), None
            ahead: UnchangedStrips | None = None
            following = index + 1
            if (following < len(edits) and not (isinstance(outcome, SimNetError) and stop_on_error)
                    and not unwritten(index) & edits[following].reads()):
                reading = start_read(following)  # read ahead while this item is edited
            if not isinstance(outcome, SimNetError):
                inputs, read_seconds = outcome
                try:
                    item = edits[index]
                    item_reach = reach if item.reach is None else item.reach  # a line's own, else the batch's
                    if isinstance(item, FileRestyle):
                        outcome = run_restyle(inputs)
                    elif item.remove:
                        from engine.removal import remove_region  # (the fill's module loads torch)

                        outcome = remove_region(inputs.artwork.pixels, inputs.source, reach=item_reach)
                    else:
                        assert manipulator is not None, "a reshape needs the manipulator"
                        # The rows the edit leaves are compressed by the writer while it runs.
                        ahead = UnchangedStrips(inputs, writer)
                        outcome = manipulator.edit(inputs.image(), inputs.source, inputs.target, reach=item_reach,
                                                   on_box=ahead.start, shape_motion=inputs.shape_motion,
                                                   resampling=resampling)
                except SimNetError as error:
                    outcome = error
            settle()  # the item before this one has had this whole edit to be written
            if stopped:
                break
            if isinstance(outcome, SimNetError):
                failures += 1
                report(index, outcome)
                if stop_on_error:
                    break
                continue
            # Reading held this item up for the masks and for whatever of the decode its edit waited for.
            outcome.timings["read"] = read_seconds + outcome.timings.pop("pixels wait", 0.0)
            if isinstance(edits[index], FileRestyle):
                write = _timed(lambda inputs=inputs, result=outcome: write_restyle(inputs, result))
            else:  # the writer compressed the unchanged rows first: that job is done when this one starts
                write = _timed(lambda inputs=inputs, result=outcome, ahead=ahead: write_result(
                    inputs, result, None if ahead is None else ahead.result()))
            writing = (index, writer.submit(write), outcome)
        if not stopped:
            settle()
        if reading is not None:
            reading.cancel()
    return failures
