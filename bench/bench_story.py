"""Benchmarks for the engine core (issue: playable with no downloads). Prints one JSON object.

- autosave time per turn at 1k, 10k and 100k scenes (median, p90, p99, max; fsync included),
  and what the frame thread pays of it
- compaction (a full snapshot, built on the saver thread) at 1k, 10k and 100k scenes: the
  frame thread's cost (median, p90, p99, max) and the time until it is on disk
- loading a 100k-scene save
- memory for a 100k-scene story (RSS growth, measured in a fresh process)
- engine overhead per turn excluding the narrator (instant narrator, no painter)
- start-up to the first scene on the embedded default (a real `dreamreel play --text` process)

Run: .venv/bin/python bench/bench_story.py [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config import load_config  # noqa: E402
from engine.story.graph import Version  # noqa: E402
from engine.session.jobs import InlineRunner  # noqa: E402
from engine.story.schema import ChoiceDraft, SceneDraft  # noqa: E402
from engine.session.core import Session  # noqa: E402

NARRATION = ("The lamp gutters as the wind finds the gaps in the old stones. Below, the sea "
             "heaves against the rocks, and somewhere out in the dark a bell answers it. "
             "You count the seconds between the flashes of the light, as the keeper taught "
             "you, and the count is wrong. ") * 2


class InstantNarrator:
    """A narrator that answers at once, so only the engine's own work is measured."""

    id, model = "bench", "instant"

    def narrate(self, request, on_token=None):
        return SceneDraft(title=f"Scene {request.node}", narration=NARRATION,
                          choices=[ChoiceDraft(label=f"Option {i}", intent="explore")
                                   for i in range(3)],
                          image_prompt="a lighthouse at night, rain", mood="tense",
                          effects={"adjust": {"steps": 1}})


class NoPainter:
    id, model, steps = "none", "none", 0

    def paint(self, prompt, seed, size, on_progress=None):
        raise AssertionError("not used")


def make_session(saves: Path, slot: str = "bench") -> Session:
    config = load_config(use_user_file=False).with_changes(
        game={"saves_dir": str(saves), "seed": 11})
    session = Session.new(config, narrator=InstantNarrator(), painter=NoPainter(),
                          runner=InlineRunner(), slot=slot)
    session.wait()
    return session


def grow(session: Session, scenes: int) -> None:
    """Grow the story to `scenes` nodes without autosaving each step (a long-played story)."""
    graph = session.graph
    node = session.current
    while len(graph) < scenes:
        children = graph.choices(node)
        child = children[len(graph) % len(children)]
        graph.add_version(child.id, Version(title=f"Scene {child.id}", narration=NARRATION,
                                            image_prompt="a cliff at dusk", mood="calm",
                                            effects={"adjust": {"steps": 1}}, seed=child.seed))
        for index in range(3):
            graph.add_child(child.id, f"Option {index}", "explore", seed=index)
        node = child.id
    session.current = node
    session.saving.dirty.clear()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def spread(values: list[float], prefix: str = "") -> dict:
    """Median, p90, p99 and max of millisecond timings: the tail is where a frame is lost."""
    return {f"{prefix}median_ms": round(statistics.median(values), 3),
            f"{prefix}p90_ms": round(percentile(values, 0.9), 3),
            f"{prefix}p99_ms": round(percentile(values, 0.99), 3),
            f"{prefix}max_ms": round(max(values), 3)}


def bench_compaction(scenes: int, runs: int, saves: Path) -> dict:
    """A full snapshot is due (a compaction of the journal): what the caller's thread pays
    for asking for it, and how long until it is on disk (built and written on the saver
    thread)."""
    session = make_session(saves, slot=f"c{scenes}")
    grow(session, scenes)
    session.save(session.slot, quiet=True)
    caller, on_disk = [], []
    for _ in range(runs):
        session.saving.journal_lines = 10**6      # the journal is long: compaction is due
        session.saving.mark(session.current)
        start = time.perf_counter()
        session.autosave()
        caller.append((time.perf_counter() - start) * 1000)
        session.flush_saves()
        on_disk.append((time.perf_counter() - start) * 1000)
    assert session.saving.journal_lines == 0      # it was a compaction, not a journal line
    return {"scenes": len(session.graph), **spread(caller, "frame_thread_"),
            "on_disk_median_ms": round(statistics.median(on_disk), 1)}


def bench_autosave(scenes: int, turns: int, saves: Path) -> dict:
    session = make_session(saves, slot=f"s{scenes}")
    grow(session, scenes)
    session.save(session.slot, quiet=True)   # the slot now holds the big snapshot
    times, handoff = [], []
    for _ in range(turns):
        session.choose(0)
        session.poll()                        # narrates (instantly) and autosaves
        session.flush_saves()
        # one turn's autosave, measured alone: the new scene and its choices, as on a turn
        session.saving.mark(*[session.current] + [c.id for c in session.choices()])
        start = time.perf_counter()
        session.autosave()
        handoff.append((time.perf_counter() - start) * 1000)   # what the caller waits
        session.flush_saves()                 # until its journal line is fsynced on disk
        times.append((time.perf_counter() - start) * 1000)
    return {"scenes": len(session.graph), **spread(times),
            **spread(handoff, "frame_thread_")}


def bench_turn_overhead(saves: Path, turns: int = 300) -> dict:
    session = make_session(saves, slot="overhead")
    times = []
    for _ in range(turns):
        start = time.perf_counter()
        session.choose(0)
        session.wait()
        times.append((time.perf_counter() - start) * 1000)
    narrator_ms = []
    request = session.narration.request(session.current, 1)
    for _ in range(100):
        start = time.perf_counter()
        session.narrator.narrate(request)
        narrator_ms.append((time.perf_counter() - start) * 1000)
    return {**spread(times, "including_autosave_"),
            "instant_narrator_ms": round(statistics.median(narrator_ms), 3)}


def bench_load(saves: Path, scenes: int) -> dict:
    session = make_session(saves, slot="load")
    grow(session, scenes)
    session.save("load", quiet=True)
    size = (saves / "slots" / "load" / "story.json").stat().st_size
    config = session.config
    start = time.perf_counter()
    loaded = Session.resume(config, "load", narrator=InstantNarrator(), painter=NoPainter(),
                            runner=InlineRunner(), slot="load")
    seconds = time.perf_counter() - start
    assert len(loaded.graph) == len(session.graph)
    return {"scenes": scenes, "seconds": round(seconds, 3), "file_mb": round(size / 2**20, 1)}


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_memory_child(scenes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        session = make_session(Path(tmp), slot="mem")
        before = rss_mb()
        grow(session, scenes)
        session.state()
        after = rss_mb()
        print(json.dumps({"scenes": scenes, "story_mb": round(after - before, 1),
                          "process_rss_mb": round(after, 1)}))


def bench_memory(scenes: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--memory-child", str(scenes)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_startup(saves: Path, runs: int = 5) -> dict:
    exe = [sys.executable, "-m", "game.cli.main", "play", "--text", "--saves-dir", str(saves),
           "--seed", "3", "--painter", "none"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(exe, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, env={**os.environ, "DREAMREEL_CONFIG": "/nonexistent"})
        while True:
            line = proc.stdout.readline()
            if not line or line.startswith("== "):
                break
        times.append(time.perf_counter() - start)
        proc.stdin.close()
        proc.wait()
    return {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--memory-child":
        bench_memory_child(int(sys.argv[2]))
        return
    quick = "--quick" in sys.argv
    sizes = [1_000, 10_000] if quick else [1_000, 10_000, 100_000]
    results: dict = {"machine": f"{os.cpu_count()} cores"}
    with tempfile.TemporaryDirectory() as tmp:
        saves = Path(tmp)
        results["autosave_per_turn"] = [bench_autosave(n, 100, saves) for n in sizes]
        results["compaction"] = [bench_compaction(n, 20, saves) for n in sizes]
        results["load_save"] = bench_load(saves, sizes[-1])
        results["memory"] = bench_memory(sizes[-1])
        results["turn_overhead"] = bench_turn_overhead(saves)
        results["startup_to_first_scene"] = bench_startup(saves)
    results["targets"] = {"autosave_median_ms": 5, "load_100k_s": 2, "memory_100k_mb": 400,
                          "turn_overhead_ms": 5, "startup_s": 2,
                          "compaction_frame_thread_ms_at_100k": 2}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
