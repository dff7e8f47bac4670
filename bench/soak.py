"""Soak: thousands of terminal lines on one world, checking that play never hangs or leaks.

Plays a seeded mix of lines through the terminal front end (game.cli.terminal.TerminalGame) on a
real Session with its threaded runner and saver, as `dreamreel play --text` does: choices,
`:save`, `:load`, `:back`, `:regen`, `:alt`, and free text (emoji, right-to-left scripts,
5,000-character lines, text that looks like templates, digits that are not ASCII). After every
line the Session's invariants are checked (engine.session.core.Session.check_invariants). A line
that takes more than --hang seconds is a hang: every thread's stack is dumped and the process
exits (faulthandler). RSS and the thread count are taken after a warm-up and at the end (before
the story is closed), and the thread count once more after it is closed.

Prints one JSON object; exits 0 when all held, 1 when an invariant broke or a traceback was
printed. tests/game/test_soak.py runs it on every world.

Run: .venv/bin/python bench/soak.py [--world ID] [--lines 2000] [--seed 1] [--painter none]
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config import load_config  # noqa: E402
from engine.errors import DreamreelError  # noqa: E402
from engine.session.jobs import ThreadedRunner  # noqa: E402
from engine.session.core import Session  # noqa: E402
from engine.text import without_controls  # noqa: E402
from game.cli.terminal import MAX_LINE, TerminalGame  # noqa: E402

SLOTS = ("one", "two", "three")
FREE_TEXT = [
    "I light the lamp and wait 🌊🕯️🔔",
    "look at the sea 🐙🐙🐙 and laugh 😂",
    "أسأل الحارس عن الجرس",                       # Arabic (right to left)
    "אני הולך אל המגדלור",                          # Hebrew
    "\u202eevil right-to-left override\u202c and on",
    "{{ 7*7 }} {% for x in range(10**9) %}{{ x }}{% endfor %}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "${jndi:ldap://x} %s%s%s {0} {{world.title}}",
    "ask about the ships",
    "run",
    "² ① ٣ ３",
    "𝕴 𝖔𝖕𝖊𝖓 𝖙𝖍𝖊 𝖉𝖔𝖔𝖗",
    "null\u0000byte and \u0007bell",
]


def script(lines: int, seed: int) -> list[str]:
    """A seeded mix of what players type (and what they should not)."""
    rng = random.Random(seed)
    out = []
    for _ in range(lines):
        roll = rng.random()
        if roll < 0.40:
            out.append(str(rng.randint(1, 4)))
        elif roll < 0.50:
            out.append(":back")
        elif roll < 0.56:
            out.append(":regen")
        elif roll < 0.61:
            out.append(f":alt {rng.randint(1, 3)}")
        elif roll < 0.66:
            out.append(f":save {rng.choice(SLOTS)}")
        elif roll < 0.70:
            out.append(f":load {rng.choice(SLOTS)}")
        elif roll < 0.73:
            out.append(rng.choice(["💥" * 2500, "long " * 1000, "ש" * 5000]))   # 5,000 chars
        elif roll < 0.76:
            out.append(rng.choice([":state", ":prompt", ":help", ":nonsense", ":alt ²"]))
        else:
            out.append(rng.choice(FREE_TEXT))
    return out


class Sink:
    """The terminal's output: counted and scanned, not kept (so it does not grow RSS)."""

    def __init__(self):
        self.lines = 0
        self.errors = 0
        self.tracebacks = 0
        self.scenes = 0

    def write(self, text: str) -> int:
        for line in text.splitlines():
            self.lines += 1
            self.errors += line.startswith("! ")
            self.tracebacks += "Traceback" in line
            self.scenes += line.startswith("== ")
        return len(text)

    def flush(self) -> None:
        pass


def rss_mb() -> float:
    """Resident memory in MB once garbage is collected and the C allocator has handed its free
    pages back (glibc's malloc_trim), so that what is counted is what the story holds, not slack."""
    import gc
    gc.collect()
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def clean(line: str) -> str:
    """What the terminal's reader makes of a line (game.cli.terminal.read_line)."""
    line = line[:MAX_LINE]
    return without_controls(line, replacement="", keep="\t").strip()


def soak(world: str, lines: int, seed: int, painter: str, hang: float, warmup: int) -> dict:
    saves = Path(tempfile.mkdtemp(prefix="dreamreel-soak-"))
    config = load_config(use_user_file=False).with_changes(
        game={"saves_dir": str(saves), "seed": seed, "world": world, "painter": painter},
        images={"width": 160, "height": 90})
    session = Session.new(config, runner=ThreadedRunner())
    sink = Sink()
    game = TerminalGame(session, sink, interactive=False)
    game.show_scene()
    broken: list[str] = []
    start = {"rss_mb": rss_mb(), "threads": threading.active_count()}
    slowest, slowest_line = 0.0, ""
    for number, raw in enumerate(script(lines, seed), start=1):
        if number == warmup:
            start = {"rss_mb": rss_mb(), "threads": threading.active_count()}
        line = clean(raw)
        if not line:
            continue
        faulthandler.dump_traceback_later(hang, exit=True)
        began = time.perf_counter()
        game.session.wait(images=painter != "none")
        game.tell_notices()
        try:
            game.handle(line)
        except DreamreelError as err:
            game.say(f"! {err}")
        game.tell_notices()
        took = time.perf_counter() - began
        if took > slowest:
            slowest, slowest_line = took, line[:40]
        faulthandler.cancel_dump_traceback_later()
        problems = game.session.check_invariants()
        if problems:
            broken.append(f"line {number} ({line[:40]!r}): {'; '.join(problems)}")
    end = {"rss_mb": rss_mb(), "threads": threading.active_count()}
    faulthandler.dump_traceback_later(hang, exit=True)
    game.session.wait(timeout=30)
    game.session.autosave()
    saved = game.session.flush_saves()
    game.session.close()
    faulthandler.cancel_dump_traceback_later()
    return {
        "world": world, "lines": lines, "seed": seed, "painter": painter,
        "scenes_shown": sink.scenes, "error_lines": sink.errors, "tracebacks": sink.tracebacks,
        "story_scenes": len(game.session.graph), "autosaved": saved,
        "invariants_broken": broken[:20], "slowest_line_s": round(slowest, 3),
        "slowest_line": slowest_line,
        "start": start, "end": end, "warmup_lines": warmup,
        "rss_growth_mb": round(end["rss_mb"] - start["rss_mb"], 1),
        "threads_after_close": threading.active_count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="lantern_coast")
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--painter", default="none", help="none | procedural")
    parser.add_argument("--hang", type=float, default=120.0,
                        help="seconds one line may take before it counts as a hang")
    parser.add_argument("--warmup", type=int, default=200, help="lines before RSS is first taken")
    args = parser.parse_args()
    result = soak(args.world, args.lines, args.seed, args.painter, args.hang,
                  min(args.warmup, max(1, args.lines // 2)))
    print(json.dumps(result, ensure_ascii=False))
    ok = not result["invariants_broken"] and not result["tracebacks"] and result["autosaved"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
