"""engine.worker without Qt: the newest job wins, and every job ends with exactly one callback,
also a job that is dropped before it ever ran (the editor clears its busy state in that callback)."""
from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from engine.worker import CancelToken, Worker


class Outcomes:
    """Records which callback each job got."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []

    def callbacks(self, name: str) -> dict:
        def record(kind: str):
            def callback(*_args) -> None:
                with self.lock:
                    self.calls.append((name, kind))
            return callback
        return {"on_done": record("done"), "on_error": record("error"), "on_cancelled": record("cancelled")}

    def of(self, name: str) -> list[str]:
        with self.lock:
            return [kind for job, kind in self.calls if job == name]


@pytest.fixture()
def worker():
    running = Worker("test-worker")
    yield running
    running.shutdown(2.0)


def blocking_job(started: threading.Event, release: threading.Event):
    """A job that signals it runs, then waits for ``release`` (ignoring its token, like a slow stage)."""
    def run(token: CancelToken) -> str:
        started.set()
        release.wait(10)
        return "finished"
    return run


def test_cancel_all_drops_the_pending_job_with_its_cancelled_callback(worker: Worker) -> None:
    """The editor's freeze: an Apply queued behind a running preview, then Ctrl+. (cancel_all)."""
    outcomes, started, release = Outcomes(), threading.Event(), threading.Event()
    worker.submit(blocking_job(started, release), **outcomes.callbacks("preview"))
    assert started.wait(5)
    worker.submit(lambda token: "applied", supersede=False, **outcomes.callbacks("apply"))
    worker.cancel_all()
    assert outcomes.of("apply") == ["cancelled"]  # at once, not only when the running job ends
    release.set()
    assert worker.wait_idle(5)
    assert outcomes.of("preview") == ["cancelled"]
    assert outcomes.of("apply") == ["cancelled"]
    # The worker still takes jobs afterwards.
    worker.submit(lambda token: 42, **outcomes.callbacks("after"))
    assert worker.wait_idle(5)
    assert outcomes.of("after") == ["done"]


def test_a_superseded_pending_job_is_told_it_was_cancelled(worker: Worker) -> None:
    outcomes, started, release = Outcomes(), threading.Event(), threading.Event()
    worker.submit(blocking_job(started, release), **outcomes.callbacks("first"))
    assert started.wait(5)
    worker.submit(lambda token: 1, **outcomes.callbacks("second"))
    worker.submit(lambda token: 2, **outcomes.callbacks("third"))
    release.set()
    assert worker.wait_idle(5)
    assert outcomes.of("first") == ["cancelled"]
    assert outcomes.of("second") == ["cancelled"]
    assert outcomes.of("third") == ["done"]


def test_firm_jobs_run_in_order_and_a_later_preview_neither_drops_them_nor_overtakes_them(worker: Worker) -> None:
    """The restyle tool's dropped click: an exemplar picked (firm) while a preview was about to start; the
    preview (superseding) cancelled the pick, and the artist's click was lost without a word."""
    order: list[str] = []
    lock = threading.Lock()
    outcomes, started, release = Outcomes(), threading.Event(), threading.Event()

    def job(name: str, value: int):
        def run(token: CancelToken) -> int:
            with lock:
                order.append(name)
            return value
        return run

    worker.submit(blocking_job(started, release), supersede=False, **outcomes.callbacks("pick running"))
    assert started.wait(5)
    worker.submit(job("open", 1), supersede=False, **outcomes.callbacks("open"))
    worker.submit(job("pick", 2), supersede=False, **outcomes.callbacks("pick"))  # no "a job is already waiting"
    worker.submit(job("old preview", 3), **outcomes.callbacks("old preview"))
    worker.submit(job("preview", 4), **outcomes.callbacks("preview"))  # replaces the old preview, not the picks
    release.set()
    assert worker.wait_idle(5)
    assert outcomes.of("pick running") == ["done"]  # the running firm job was not cancelled either
    assert outcomes.of("open") == ["done"] and outcomes.of("pick") == ["done"]
    assert outcomes.of("old preview") == ["cancelled"] and outcomes.of("preview") == ["done"]
    assert order == ["open", "pick", "preview"]


def test_cancel_all_drops_every_queued_firm_job(worker: Worker) -> None:
    outcomes, started, release = Outcomes(), threading.Event(), threading.Event()
    worker.submit(blocking_job(started, release), **outcomes.callbacks("running"))
    assert started.wait(5)
    for name in ("first", "second", "third"):
        worker.submit(lambda token: 1, supersede=False, **outcomes.callbacks(name))
    worker.cancel_all()
    assert [outcomes.of(name) for name in ("first", "second", "third")] == [["cancelled"]] * 3  # at once
    release.set()
    assert worker.wait_idle(5)
    assert outcomes.of("running") == ["cancelled"]


def test_a_job_cancelled_through_its_handle_before_it_runs_is_told_so(worker: Worker) -> None:
    outcomes, started, release = Outcomes(), threading.Event(), threading.Event()
    worker.submit(blocking_job(started, release), **outcomes.callbacks("first"))
    assert started.wait(5)
    handle = worker.submit(lambda token: 1, supersede=False, **outcomes.callbacks("second"))
    handle.cancel()
    release.set()
    assert worker.wait_idle(5)
    assert outcomes.of("first") == ["done"]
    assert outcomes.of("second") == ["cancelled"]


def test_shutdown_tells_the_pending_job(worker: Worker) -> None:
    outcomes, started, release = Outcomes(), threading.Event(), threading.Event()
    worker.submit(blocking_job(started, release), **outcomes.callbacks("running"))
    assert started.wait(5)
    worker.submit(lambda token: 1, supersede=False, **outcomes.callbacks("pending"))
    release.set()
    worker.shutdown(5.0)
    assert outcomes.of("pending") == ["cancelled"]
    assert outcomes.of("running") in (["done"], ["cancelled"])


def test_errors_reach_on_error(worker: Worker) -> None:
    outcomes = Outcomes()

    def broken(token: CancelToken) -> None:
        raise ValueError("broken")

    worker.submit(broken, **outcomes.callbacks("broken"))
    assert worker.wait_idle(5)
    assert outcomes.of("broken") == ["error"]


def test_every_job_gets_exactly_one_callback_under_random_cancels(worker: Worker) -> None:
    rng = random.Random(7)
    outcomes = Outcomes()
    names = []
    for index in range(300):
        name = f"job{index}"
        names.append(name)
        pause = threading.Event()

        def run(token: CancelToken, pause=pause, wait=rng.random() * 0.002) -> int:
            pause.wait(wait)
            return 1

        worker.submit(run, supersede=rng.random() < 0.7, **outcomes.callbacks(name))
        if rng.random() < 0.2:
            worker.cancel_all()
    assert worker.wait_idle(10)
    counts = Counter(job for job, _ in outcomes.calls)
    assert all(counts[name] == 1 for name in names), {name: counts[name] for name in names if counts[name] != 1}
