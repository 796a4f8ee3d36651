"""A Qt-free background worker: one thread, the newest request wins, cancellation, callbacks.

Interactive tools produce requests faster than edits finish (a preview per brush stroke). Only
the latest matters: submitting a job cancels the running one (its result is never delivered) and
replaces any pending one. Callbacks run on the worker thread; the GUI forwards them to its own
thread (Qt signals), so the engine never needs Qt.

Every job ends with exactly one callback: ``on_done``, ``on_error`` or ``on_cancelled``, also when
it is dropped before it ever ran (superseded, :meth:`Worker.cancel_all`, :meth:`Worker.shutdown`).
A caller that set a busy state when it submitted can always clear it.
"""
from __future__ import annotations

import itertools
import logging
import threading
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


class Worker:
    """Runs jobs one at a time on a daemon thread."""

    def __init__(self, name: str = "simnet-worker") -> None:
        self._condition = threading.Condition()
        self._pending: _Job | None = None
        self._running: _Job | None = None
        self._stopped = False
        self._ids = itertools.count(1)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, run: Callable[[CancelToken], Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_cancelled: Callable[[], None] | None = None, supersede: bool = True) -> JobHandle:
        """Queue ``run(token)``; with ``supersede`` the running and pending jobs are cancelled."""
        handle = JobHandle(next(self._ids))
        job = _Job(handle, run, on_done, on_error, on_cancelled)
        dropped: _Job | None = None
        with self._condition:
            if self._stopped:
                raise RuntimeError("the worker has been shut down")
            if supersede:
                if self._running is not None:
                    self._running.handle.cancel()
                dropped, self._pending = self._pending, job
                if dropped is not None:
                    dropped.handle.cancel()
            elif self._pending is None:
                self._pending = job
            else:
                raise RuntimeError("a job is already waiting")
            self._condition.notify()
        if dropped is not None:  # outside the lock: a callback may submit again
            self._notify_cancelled(dropped)
        return handle

    def cancel_all(self) -> None:
        """Cancel the running job and drop the pending one; both get their ``on_cancelled`` call
        (the running one once its ``run`` returns)."""
        with self._condition:
            if self._running is not None:
                self._running.handle.cancel()
            dropped, self._pending = self._pending, None
            if dropped is not None:
                dropped.handle.cancel()
            self._condition.notify_all()
        if dropped is not None:
            self._notify_cancelled(dropped)

    @property
    def busy(self) -> bool:
        with self._condition:
            return self._running is not None or self._pending is not None

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job runs or waits (for tests and shutdown)."""
        with self._condition:
            return self._condition.wait_for(lambda: self._running is None and self._pending is None, timeout)

    def shutdown(self, timeout: float = 5.0) -> None:
        with self._condition:
            self._stopped = True
            dropped, self._pending = self._pending, None
            if dropped is not None:
                dropped.handle.cancel()
            if self._running is not None:
                self._running.handle.cancel()
            self._condition.notify_all()
        if dropped is not None:
            self._notify_cancelled(dropped)
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
                self._condition.wait_for(lambda: self._pending is not None or self._stopped)
                if self._stopped:
                    return
                job, self._pending = self._pending, None
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
