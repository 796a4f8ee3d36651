"""A Qt-free background worker: one thread, the newest request wins, cancellation, callbacks.

Interactive tools produce requests faster than edits finish (a preview per brush stroke). Only
the latest matters: submitting a job cancels the running one (its result is never delivered) and
replaces any pending one (the editor's Apply supersedes its own preview this way). What the artist
asked for once while previews may still come (a Restyle Apply, a click that picks an exemplar, an
image to open) is submitted as *firm* (``supersede=False``): it waits its turn in order and is
never dropped by a later preview, which runs after it. Callbacks run on the worker thread; the GUI
forwards them to its own thread (Qt signals), so the engine never needs Qt.

Every job ends with exactly one callback: ``on_done``, ``on_error`` or ``on_cancelled``, also when
it is dropped before it ever ran (superseded, :meth:`Worker.cancel_all`, :meth:`Worker.shutdown`).
A caller that set a busy state when it submitted can always clear it.
"""
from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)


class CancelToken:
    """Polled by a job; set when a newer job supersedes it or the user cancels."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def __call__(self) -> bool:  # usable directly as Manipulator.edit(cancel=token)
        return self._event.is_set()


@dataclass
class JobHandle:
    id: int
    token: CancelToken = field(default_factory=CancelToken)

    def cancel(self) -> None:
        self.token.cancel()


@dataclass
class _Job:
    handle: JobHandle
    run: Callable[[CancelToken], Any]
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    on_cancelled: Callable[[], None] | None
    firm: bool


class Worker:
    """Runs jobs one at a time on a daemon thread."""

    def __init__(self, name: str = "simnet-worker") -> None:
        self._condition = threading.Condition()
        self._pending: deque[_Job] = deque()
        self._running: _Job | None = None
        self._stopped = False
        self._ids = itertools.count(1)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, run: Callable[[CancelToken], Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_cancelled: Callable[[], None] | None = None, supersede: bool = True) -> JobHandle:
        """Queue ``run(token)``. With ``supersede`` the running job and the pending ones are cancelled, except
        firm ones, which this job then follows; without it the job is firm: it runs after those queued before
        it, and only :meth:`cancel_all`, :meth:`shutdown` or its handle cancel it."""
        handle = JobHandle(next(self._ids))
        job = _Job(handle, run, on_done, on_error, on_cancelled, firm=not supersede)
        dropped: list[_Job] = []
        with self._condition:
            if self._stopped:
                raise RuntimeError("the worker has been shut down")
            if supersede:
                if self._running is not None and not self._running.firm:
                    self._running.handle.cancel()
                dropped = self._drop_pending(firm_too=False)
            self._pending.append(job)
            self._condition.notify()
        for queued in dropped:  # outside the lock: a callback may submit again
            self._notify_cancelled(queued)
        return handle

    def cancel_all(self) -> None:
        """Cancel the running job and drop the pending ones, firm ones too; each gets its ``on_cancelled``
        call (the running one once its ``run`` returns)."""
        with self._condition:
            if self._running is not None:
                self._running.handle.cancel()
            dropped = self._drop_pending()
            self._condition.notify_all()
        for job in dropped:
            self._notify_cancelled(job)

    def _drop_pending(self, firm_too: bool = True) -> list[_Job]:
        """Take the queued jobs out (without ``firm_too``, the firm ones stay), cancelling each; returns
        them. Called with the condition held."""
        dropped = [job for job in self._pending if firm_too or not job.firm]
        self._pending = deque(job for job in self._pending if job.firm and not firm_too)
        for job in dropped:
            job.handle.cancel()
        return dropped

    @property
    def busy(self) -> bool:
        with self._condition:
            return self._running is not None or bool(self._pending)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job runs or waits (for tests and shutdown)."""
        with self._condition:
            return self._condition.wait_for(lambda: self._running is None and not self._pending, timeout)

    def shutdown(self, timeout: float = 5.0) -> None:
        with self._condition:
            self._stopped = True
            dropped = self._drop_pending()
            if self._running is not None:
                self._running.handle.cancel()
            self._condition.notify_all()
        for job in dropped:
            self._notify_cancelled(job)
        self._thread.join(timeout)

    @staticmethod
    def _notify_cancelled(job: _Job) -> None:
        if job.on_cancelled is not None:
            try:
                job.on_cancelled()
            except Exception:  # noqa: BLE001 - a broken callback must not kill the worker
                log.exception("on_cancelled callback failed")

    def _loop(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: bool(self._pending) or self._stopped)
                if self._stopped:
                    return
                job = self._pending.popleft()
                self._running = job
            self._execute(job)
            with self._condition:
                self._running = None
                self._condition.notify_all()

    def _execute(self, job: _Job) -> None:
        token = job.handle.token
        if token.cancelled:
            self._notify_cancelled(job)
            return
        try:
            result = job.run(token)
        except BaseException as error:  # noqa: BLE001 - delivered to the caller, never lost
            if token.cancelled:
                self._notify_cancelled(job)
                return
            if job.on_error is not None:
                try:
                    job.on_error(error)
                except Exception:  # noqa: BLE001
                    log.exception("on_error callback failed")
            else:
                log.exception("background job failed", exc_info=error)
            return
        if token.cancelled:
            self._notify_cancelled(job)
            return
        if job.on_done is not None:
            try:
                job.on_done(result)
            except Exception:  # noqa: BLE001
                log.exception("on_done callback failed")
