"""Job runners: slow work (narration, painting, prefetch) off the caller's thread.

Jobs have a priority (lower runs first), a kind and a key, can be cancelled, and report
events (tokens, progress, result, failure) into one outbox that the owner drains with poll() on
its own thread. Workers never touch the story graph or pygame: they hand back plain data. The
inline runner does the same work synchronously inside poll(), for tests and scripted runs.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.errors import JobCancelled

# Priorities: lower runs first.
NARRATE_CURRENT = 0
PAINT_CURRENT = 1
PREFETCH_NARRATE = 2
PREFETCH_PAINT = 3

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"


class Preempted(JobCancelled):
    """Raised at a yield point of a less urgent job when urgent work waits for the device: the
    job stops (releasing any lock its backend holds) and goes back in the queue to run again."""


@dataclass(frozen=True)
class JobEvent:
    """Something a job reported: kind is 'token', 'progress', 'done', 'failed' or 'cancelled'."""

    job: "Job"
    kind: str
    payload: Any = None


@dataclass(eq=False)
class Job:
    """A unit of slow work. `work(job)` runs on a worker; it calls job.emit / job.check."""

    work: Callable[["Job"], Any]
    priority: int
    kind: str
    key: Any = None
    status: str = QUEUED
    result: Any = None
    error: BaseException | None = None
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _outbox: "queue.SimpleQueue[JobEvent] | None" = field(default=None, repr=False)
    _yield: Callable[["Job"], None] | None = field(default=None, repr=False)
    _requeue: Callable[["Job"], None] | None = field(default=None, repr=False)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED, CANCELLED)

    def cancel(self) -> None:
        """Ask the job to stop; it stops at its next token, step or check()."""
        self._cancel.set()

    def check(self) -> None:
        """Raise JobCancelled if the job was cancelled (call it between tokens or steps)."""
        if self._cancel.is_set():
            raise JobCancelled()

    def emit(self, kind: str, payload: Any = None) -> None:
        """Report a token or progress; raises JobCancelled if the job was cancelled.

        Also a yield point: a less urgent job hands the device to a more urgent one here and
        resumes when it is free again, so prefetch never delays the current scene.
        """
        self.check()
        if self._outbox is not None:
            self._outbox.put(JobEvent(self, kind, payload))
        if self._yield is not None:
            self._yield(self)
            self.check()

    def _run(self) -> None:
        if self.cancelled:
            self._finish(CANCELLED)
            return
        self.status = RUNNING
        try:
            self.result = self.work(self)
        except Preempted:
            if self._requeue is not None and not self.cancelled:
                self.status = QUEUED
                if self._outbox is not None:
                    self._outbox.put(JobEvent(self, "requeued"))
                self._requeue(self)
            else:
                self._finish(CANCELLED)
        except JobCancelled:
            self._finish(CANCELLED)
        except BaseException as err:  # reported to the owner, who shows it; never lost
            self.error = err
            self._finish(FAILED, err)
        else:
            self._finish(CANCELLED if self.cancelled and self.result is None else DONE, self.result)

    def _finish(self, status: str, payload: Any = None) -> None:
        self.status = status
        if self._outbox is not None:
            self._outbox.put(JobEvent(self, status, payload))


class _Queue:
    """Priority queue of jobs, first-in-first-out within one priority."""

    def __init__(self):
        self._heap: list[tuple[int, int, Job]] = []
        self._order = itertools.count()

    def push(self, job: Job) -> None:
        heapq.heappush(self._heap, (job.priority, next(self._order), job))

    def pop(self) -> Job | None:
        while self._heap:
            _, _, job = heapq.heappop(self._heap)
            return job
        return None

    def jobs(self) -> list[Job]:
        return [job for _, _, job in self._heap]

    def reorder(self) -> None:
        """Restore heap order after priorities changed."""
        self._heap = [(job.priority, order, job) for _, order, job in self._heap]
        heapq.heapify(self._heap)

    def pop_if(self, wanted: Callable[[Job], bool]) -> Job | None:
        """The most urgent job that satisfies wanted, removed from the queue."""
        for entry in sorted(self._heap):
            if wanted(entry[2]):
                self._heap.remove(entry)
                heapq.heapify(self._heap)
                return entry[2]
        return None

    def __len__(self) -> int:
        return len(self._heap)


class InlineRunner:
    """Runs jobs synchronously, in priority order, when poll() is called. For tests and scripts."""

    def __init__(self):
        self._queue = _Queue()
        self._outbox: queue.SimpleQueue[JobEvent] = queue.SimpleQueue()

    def submit(self, work: Callable[[Job], Any], priority: int, kind: str, key: Any = None) -> Job:
        job = Job(work=work, priority=priority, kind=kind, key=key, _outbox=self._outbox)
        self._queue.push(job)
        return job

    def pending(self) -> list[Job]:
        return [job for job in self._queue.jobs() if not job.finished]

    def reprioritise(self, job: Job, priority: int) -> None:
        job.priority = priority
        self._queue.reorder()

    def poll(self) -> list[JobEvent]:
        while (job := self._queue.pop()) is not None:
            job._run()
        return _drain(self._outbox)

    @property
    def idle(self) -> bool:
        return len(self._queue) == 0 and self._outbox.empty()

    def wait(self, timeout: float | None = None) -> None:
        """Nothing to wait for: work happens in poll()."""

    def shutdown(self) -> None:
        for job in self._queue.jobs():
            job.cancel()


class Device:
    """One shared compute device (a GPU, or the CPU cores a model uses), held by one job at a
    time and handed out most-urgent-first. Running jobs hand it over at their yield points."""

    def __init__(self):
        self._cond = threading.Condition()
        self._holder: Job | None = None
        self._waiting: list[Job] = []

    def acquire(self, job: Job) -> None:
        with self._cond:
            self._waiting.append(job)
            while self._holder is not None or self._next() is not job:
                self._cond.wait(0.1)
            self._waiting.remove(job)
            self._holder = job

    def release(self, job: Job) -> None:
        with self._cond:
            if self._holder is job:
                self._holder = None
            self._cond.notify_all()

    def hand_over(self, job: Job) -> None:
        """At a yield point: if a more urgent job waits, stop this one (it is requeued and runs
        again later). Stopping, rather than pausing, releases whatever the backend holds (a
        model's lock, its KV cache), so the urgent job can use the same model at once."""
        with self._cond:
            urgent = self._next()
            if urgent is None or urgent.priority >= job.priority:
                return
        raise Preempted()

    def _next(self) -> Job | None:
        return min(self._waiting, key=lambda j: j.priority, default=None)


class ThreadedRunner:
    """Runs jobs on worker threads around one shared Device.

    Work that shares the device runs one job at a time, most urgent first; a less urgent job
    (prefetch) hands the device over at its next token or step when urgent work arrives. One
    worker takes any job; the others take only urgent ones (priority below `urgent_below`), so
    the current scene never queues behind prefetch.
    """

    def __init__(self, workers: int = 2, urgent_below: int = PREFETCH_NARRATE):
        self._queue = _Queue()
        self._outbox: queue.SimpleQueue[JobEvent] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._running: set[Job] = set()
        self._stopping = False
        self.device = Device()
        self.urgent_below = urgent_below
        self._threads = [threading.Thread(target=self._loop, args=(index == 0,), daemon=True,
                                          name=f"dreamreel-job-{index}")
                         for index in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, work: Callable[[Job], Any], priority: int, kind: str, key: Any = None) -> Job:
        job = Job(work=work, priority=priority, kind=kind, key=key, _outbox=self._outbox,
                  _yield=self._hand_over, _requeue=self._push)
        with self._cond:
            self._queue.push(job)
            self._cond.notify_all()
        return job

    def _hand_over(self, job: Job) -> None:
        """At a yield point: stop for more urgent work, whether it already waits for the device
        or still waits for a worker. The second matters when every worker is busy (one paints
        the current picture, the other waits to prefetch) and the player asks for a scene: the
        running job stops, its worker takes the urgent one, and nothing waits for a picture."""
        with self._cond:
            queued = min((j.priority for j in self._queue.jobs() if not j.cancelled),
                         default=None)
        if queued is not None and queued < job.priority:
            raise Preempted()
        self.device.hand_over(job)

    def _push(self, job: Job) -> None:
        with self._cond:
            if not self._stopping:
                self._queue.push(job)
                self._cond.notify_all()

    def reprioritise(self, job: Job, priority: int) -> None:
        """Make a queued or running job more (or less) urgent, e.g. a prefetch the player chose."""
        with self._cond:
            job.priority = priority
            self._queue.reorder()
            self._cond.notify_all()

    def pending(self) -> list[Job]:
        """Queued and running jobs (not yet finished)."""
        with self._cond:
            return [j for j in self._queue.jobs() + list(self._running) if not j.finished]

    def poll(self) -> list[JobEvent]:
        """Events since the last poll. Never blocks."""
        return _drain(self._outbox)

    @property
    def idle(self) -> bool:
        with self._cond:
            return not self._queue and not self._running and self._outbox.empty()

    def wait(self, timeout: float | None = None) -> None:
        """Block until a job finishes or is submitted, or the timeout passes (for the terminal
        front end). Returns at once when finished work waits to be polled, so a poll-and-wait
        loop never sleeps past a result; and never returns early otherwise, so such a loop
        never spins. Without a timeout it returns at once when there is no work at all."""
        with self._cond:
            if not self._outbox.empty():
                return
            if timeout is None and not (self._queue or self._running):
                return
            self._cond.wait(timeout)

    def _loop(self, general: bool) -> None:
        def wanted(job: Job) -> bool:
            return general or job.priority < self.urgent_below

        while True:
            with self._cond:
                job = None
                while not self._stopping and (job := self._queue.pop_if(wanted)) is None:
                    self._cond.wait()
                if self._stopping:
                    return
                self._running.add(job)
            try:
                self.device.acquire(job)
                try:
                    job._run()
                finally:
                    self.device.release(job)
            finally:
                with self._cond:
                    self._running.discard(job)
                    self._cond.notify_all()

    def shutdown(self, timeout: float = 3.0) -> None:
        """Cancel everything and wait (up to timeout) for the workers to stop: a model still
        running on a daemon thread while Python exits would abort the process."""
        with self._cond:
            self._stopping = True
            for job in self._queue.jobs() + list(self._running):
                job.cancel()
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))


def _drain(outbox: "queue.SimpleQueue[JobEvent]") -> list[JobEvent]:
    events = []
    while True:
        try:
            events.append(outbox.get_nowait())
        except queue.Empty:
            return events
