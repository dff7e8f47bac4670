"""Benchmark of the espeak voice on real narration (the storylets of assets/worlds/lantern_coast).
Prints one JSON object.

The target (issue 15): the first sentence of a scene is heard within 300 ms of it appearing.
"First sentence latency" is the time from the scene's text to the first sentence's clip file in
the cache, ready to play: cutting the text into lines, speaking the first one, writing its WAV.

- cold: in a fresh process, the first call of all: loading and initializing espeak-ng included
  (import of the voice module reported apart);
- warm: the library loaded, a clip not yet in the cache (every later scene);
- cached: the clip already there (rollback, a reloaded save);
- per sentence: time to speak each sentence of every storylet, its audio length, and the
  real-time factor (seconds of compute per second of speech; below 1 is faster than speech).

Run: .venv/bin/python bench/bench_voice.py [--voice espeak] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.audio.clips import ClipCache  # noqa: E402
from engine.audio.voices import lines, make_voice, speak_cached  # noqa: E402
from engine.worlds.loading import load_world  # noqa: E402

WORLD = "lantern_coast"

COLD = """
import sys, time, tempfile
sys.path.insert(0, {root!r})
start = time.perf_counter()
from engine.audio.clips import ClipCache
from engine.audio.voices import lines, make_voice, speak_cached
imported = time.perf_counter()
voice = make_voice({spec!r})
first = lines({text!r}, "", {voices!r})[0]
speak_cached(voice, ClipCache(tempfile.mkdtemp()), first.text, first.voice)
done = time.perf_counter()
print((imported - start) * 1000, (done - imported) * 1000)
"""


def scene_texts(limit: int) -> tuple[list[str], dict[str, str]]:
    """The world's storylet texts with names filled in (and the rest of the Jinja dropped), and
    {character name: voice} from world.toml."""
    world = load_world(WORLD)
    names = {key: character.name for key, character in world.characters.items()}
    voices = {character.name: getattr(character, "voice", "") for character in
              world.characters.values()}

    def render(text: str) -> str:
        text = re.sub(r"\{\{\s*characters\.(\w+)\.name\s*\}\}",
                      lambda match: names.get(match.group(1), "someone"), text)
        text = re.sub(r"\{\{.*?\}\}", "the keeper", text)
        return re.sub(r"\{[%#].*?[%#]\}", "", text, flags=re.S).strip()

    texts = [render(storylet.spec.text) for storylet in world.storylets.values()]
    return [text for text in texts if text][:limit], voices


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", default="espeak", help='voice spec (default "espeak")')
    parser.add_argument("--limit", type=int, default=1000, help="at most this many scenes")
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh processes for cold")
    args = parser.parse_args()

    texts, voices = scene_texts(args.limit)
    cold_import, cold_first = [], []
    for _ in range(args.cold_runs):
        code = COLD.format(root=str(ROOT), spec=args.voice, text=texts[0], voices=voices)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout.split()
        cold_import.append(float(out[0]))
        cold_first.append(float(out[1]))

    voice = make_voice(args.voice)
    voice.speak("Warm up.")
    warm, cached = [], []
    per_sentence, audio_seconds = [], []
    with tempfile.TemporaryDirectory() as folder:
        cache = ClipCache(Path(folder))
        for text in texts:
            start = time.perf_counter()
            scene = lines(text, "", voices)
            speak_cached(voice, cache, scene[0].text, scene[0].voice)
            warm.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            again = lines(text, "", voices)
            speak_cached(voice, cache, again[0].text, again[0].voice)
            cached.append((time.perf_counter() - start) * 1000)
            for line in scene:
                start = time.perf_counter()
                clip = voice.speak(line.text, line.voice)
                per_sentence.append((time.perf_counter() - start) * 1000)
                audio_seconds.append(clip.seconds)

    result = {
        "voice": args.voice,
        "model": voice.model,
        "scenes": len(texts),
        "sentences": len(per_sentence),
        "target_first_sentence_ms": 300,
        "first_sentence_cold_ms": {"median": round(statistics.median(cold_first), 1),
                                   "max": round(max(cold_first), 1),
                                   "import_ms": round(statistics.median(cold_import), 1),
                                   "runs": len(cold_first)},
        "first_sentence_warm_ms": {"median": round(statistics.median(warm), 2),
                                   "p90": round(percentile(warm, 0.9), 2),
                                   "max": round(max(warm), 2)},
        "first_sentence_cached_ms": {"median": round(statistics.median(cached), 2),
                                     "max": round(max(cached), 2)},
        "per_sentence_ms": {"median": round(statistics.median(per_sentence), 2),
                            "p90": round(percentile(per_sentence, 0.9), 2),
                            "max": round(max(per_sentence), 2)},
        "sentence_audio_s": {"median": round(statistics.median(audio_seconds), 2),
                             "max": round(max(audio_seconds), 2)},
        "real_time_factor": round(sum(per_sentence) / 1000 / sum(audio_seconds), 4),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
