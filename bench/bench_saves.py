"""Benchmarks for the slowest save operations, with tail latencies (p50 / p90 / p99 / max).

- load: reading a slot from disk (SaveStore.read: the newest good snapshot plus its journal)
- resume: Session.resume end to end (the slot's lock, the read, every scene checked, the world
  loaded, the story rebuilt), until the current scene is ready to show
- save: a full named save (Session.save: snapshot, thumbnail-less, fsync, rotating backups)
- autosave: one turn's autosave until its journal line is fsynced (what a crash can lose)

Stories of 1k and 10k scenes (100 runs each; --big adds 100k scenes, 20 runs). The disk is the
machine's temp folder. Run: .venv/bin/python bench/bench_saves.py [--big] [--runs N] [--out FILE]
Prints one JSON object (and writes it to --out).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_story import InstantNarrator, NoPainter, grow, make_session  # noqa: E402

from engine.session.jobs import InlineRunner  # noqa: E402
from engine.session.core import Session  # noqa: E402


def tail(times: list[float]) -> dict:
    """p50 / p90 / p99 / max in milliseconds, nearest rank (the p99 of 100 runs is the second
    slowest; of fewer than 100 runs, the slowest)."""
    ordered = sorted(times)

    def at(fraction: float) -> float:
        return round(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)], 3)

    return {"runs": len(times), "p50_ms": round(statistics.median(ordered), 3),
            "p90_ms": at(0.90), "p99_ms": at(0.99), "max_ms": round(ordered[-1], 3)}


def timed(action, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def bench_size(saves: Path, scenes: int, runs: int) -> dict:
    session = make_session(saves, slot=f"play{scenes}")
    grow(session, scenes)
    name = f"story{scenes}"
    session.save(name, quiet=True)
    session.save(session.slot, quiet=True)
    file_mb = (session.store.slot_dir(name) / "story.json").stat().st_size / 2**20
    config = session.config
    store = session.store

    def load() -> None:
        store.read(name)

    def resume() -> None:
        story = Session.resume(config, name, narrator=InstantNarrator(), painter=NoPainter(),
                               runner=InlineRunner(), slot=f"resumed{scenes}")
        story.wait()
        assert not story.waiting and len(story.graph) >= scenes
        story.close()

    def save() -> None:
        session.save(name, quiet=True)

    def autosave() -> None:
        session.choose(0)
        session.poll()                 # the instant narrator tells it; that autosaves too
        session.flush_saves()
        session.saving.mark(*[session.current] + [c.id for c in session.choices()])
        start = time.perf_counter()
        session.autosave()
        session.flush_saves()          # until the journal line is on disk
        autosave.times.append((time.perf_counter() - start) * 1000)

    autosave.times = []
    result = {"scenes": len(session.graph), "file_mb": round(file_mb, 1),
              "load": tail(timed(load, runs)), "resume": tail(timed(resume, runs)),
              "save": tail(timed(save, runs))}
    for _ in range(runs):
        autosave()
    result["autosave"] = tail(autosave.times)
    session.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also a 100k-scene story")
    parser.add_argument("--runs", type=int, default=100, help="runs per operation and size")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    sizes = [(1_000, args.runs), (10_000, args.runs)]
    if args.big:
        sizes.append((100_000, max(5, args.runs // 5)))
    results: dict = {"machine": f"{os.cpu_count()} cores, {platform.machine()}, "
                                f"Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as tmp:
        results["sizes"] = [bench_size(Path(tmp), scenes, runs) for scenes, runs in sizes]
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
