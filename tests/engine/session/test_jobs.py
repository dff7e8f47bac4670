"""Job runners: priority order, cancellation, and prefetch handing the device to urgent work."""

import threading
import time

from engine.errors import JobCancelled
from engine.session.jobs import (CANCELLED, DONE, FAILED, NARRATE_CURRENT, PREFETCH_NARRATE,
                         PREFETCH_PAINT, InlineRunner, ThreadedRunner)


def _collect(runner, count, timeout=10.0):
    events, deadline = [], time.monotonic() + timeout
    while len([e for e in events if e.kind in (DONE, FAILED, CANCELLED)]) < count:
        assert time.monotonic() < deadline, events
        events += runner.poll()
        time.sleep(0.005)
    return events


def test_inline_runner_runs_by_priority():
    runner = InlineRunner()
    order = []
    for name, priority in [("paint-prefetch", PREFETCH_PAINT), ("narrate", NARRATE_CURRENT),
                           ("prefetch", PREFETCH_NARRATE)]:
        runner.submit(lambda job, n=name: order.append(n), priority, "x")
    runner.poll()
    assert order == ["narrate", "prefetch", "paint-prefetch"]


def test_failures_and_cancellation_are_reported():
    runner = InlineRunner()
    bad = runner.submit(lambda job: 1 / 0, 0, "x")
    gone = runner.submit(lambda job: "never", 0, "x")
    gone.cancel()
    events = {e.job: e.kind for e in runner.poll() if e.kind in (DONE, FAILED, CANCELLED)}
    assert events == {bad: FAILED, gone: CANCELLED}
    assert isinstance(bad.error, ZeroDivisionError)


def test_threaded_cancellation_stops_at_the_next_token():
    runner = ThreadedRunner()
    produced = []

    def stream(job):
        for index in range(10_000):
            job.emit("token", str(index))
            produced.append(index)
            time.sleep(0.001)

    job = runner.submit(stream, NARRATE_CURRENT, "narrate")
    while len(produced) < 5:
        time.sleep(0.001)
    job.cancel()
    count = len(produced)
    _collect(runner, 1)
    assert job.status == CANCELLED
    assert len(produced) <= count + 2
    runner.shutdown()


def test_prefetch_hands_the_device_to_urgent_work():
    runner = ThreadedRunner()
    timeline = []
    at_step_ten, submitted = threading.Event(), threading.Event()

    def prefetch(job):
        for step in range(200):
            timeline.append(("prefetch", step))
            if step == 10:
                at_step_ten.set()
                submitted.wait(10)
            job.emit("progress", step / 200)
            time.sleep(0.002)
        return "prefetched"

    def urgent(job):
        timeline.append(("urgent", 0))
        return "current"

    slow = runner.submit(prefetch, PREFETCH_NARRATE, "narrate")
    assert at_step_ten.wait(10)
    fast = runner.submit(urgent, NARRATE_CURRENT, "narrate")
    submitted.set()
    _collect(runner, 2)
    position = timeline.index(("urgent", 0))
    assert fast.result == "current" and slow.result == "prefetched"
    # submitted during step 10: it runs at the prefetch's next yield point (or the one after,
    # when a worker was still picking it up), not after the prefetch's 200 steps
    assert 11 <= position <= 12, timeline[:position + 1]
    runner.shutdown()


def test_reprioritised_job_runs_before_others():
    runner = InlineRunner()
    order = []
    runner.submit(lambda job: order.append("a"), PREFETCH_NARRATE, "x")
    chosen = runner.submit(lambda job: order.append("b"), PREFETCH_NARRATE, "x")
    runner.reprioritise(chosen, NARRATE_CURRENT)
    runner.poll()
    assert order == ["b", "a"]


def test_job_cancelled_is_not_an_error():
    from engine.errors import DreamreelError
    assert not issubclass(JobCancelled, DreamreelError)


def test_urgent_work_gets_a_model_that_prefetch_holds_locked():
    """Backends lock their model while generating; preempting a prefetch must free it."""
    runner = ThreadedRunner()
    model_lock = threading.Lock()
    started = threading.Event()
    runs = []

    def generate(job, name, tokens):
        with model_lock:
            runs.append(name)
            started.set()
            for _ in range(tokens):
                job.emit("token", "x")
                time.sleep(0.002)
        return name

    prefetch = runner.submit(lambda job: generate(job, "prefetch", 300), PREFETCH_NARRATE, "n")
    started.wait(5)
    current = runner.submit(lambda job: generate(job, "current", 5), NARRATE_CURRENT, "n")
    events = _collect(runner, 2, timeout=20)
    assert current.result == "current" and prefetch.result == "prefetch"
    assert runs[:3] == ["prefetch", "current", "prefetch"]      # stopped, then told again
    assert any(e.kind == "requeued" and e.job is prefetch for e in events)
    runner.shutdown()
