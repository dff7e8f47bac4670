"""Frame-time benchmark for the pygame game. Prints one JSON object.

600 frames of the real story screen at 1280x720 while a fake narrator streams text at 20 tokens/s
and a fake painter takes 2 s per image, both on the Session's real background thread. A scripted
player clicks through the narration and picks a choice once the scene's picture is up, so the
frames include streaming, the typewriter, crossfades, new choices and autosaves. With sound on (the
default) each scene has a mood of its own, so the procedural music of a new mood is composed while
the player reads, and the narration is read aloud by espeak-ng sentence by sentence as it streams,
all on the sound's own runner, played through pygame's mixer (the dummy audio device when there is
no sound card). Frame time is the work of App.step() (input, polling, update, draw, present), not
the sleep that caps the loop at 60 fps.

Run: .venv/bin/python bench/bench_frames.py [--frames N] [--size WxH] [--sound on|off]
(SDL's dummy video driver is used when no display is set; target: p99 under 16.7 ms.)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ["DREAMREEL_CONFIG"] = os.path.join(tempfile.gettempdir(), "dreamreel-bench-none.toml")

TOKENS_PER_SECOND = 20
PAINT_SECONDS = 2.0
WORDS_PER_PARAGRAPH = 20   # two paragraphs a scene
MOODS = ("calm", "bright", "tense", "dark", "eerie", "melancholy", "triumphant", "mysterious")
WORDS = ("the lamp gutters as the wind finds the gaps in the old stones and below the sea heaves "
         "against the rocks while somewhere out in the dark a bell answers it").split()


class StreamingNarrator:
    """Streams 40 words at 20 tokens/s (a word a token: 2 s), then returns a three-choice scene."""

    id, model = "bench-stream", "fake-20tps"

    def narrate(self, request, on_token=None):
        from engine.story.schema import ChoiceDraft, SceneDraft
        rng = random.Random(request.seed)
        paragraphs = []
        for _ in range(2):
            paragraphs.append(" ".join(rng.choice(WORDS) for _ in range(WORDS_PER_PARAGRAPH))
                              .capitalize() + ".")
        narration = "\n\n".join(paragraphs)
        for token in narration.split(" "):
            time.sleep(1.0 / TOKENS_PER_SECOND)
            if on_token is not None:
                on_token(token + " ")
        return SceneDraft(title=f"Scene {request.node}", narration=narration,
                          choices=[ChoiceDraft(label=f"Choice {i + 1} at scene {request.node}",
                                               intent="explore") for i in range(3)],
                          image_prompt=f"scene {request.node}", mood=rng.choice(MOODS))


class SlowPainter:
    """Takes 2 s per image (reporting progress), then returns a 1280x720 gradient picture."""

    id, model, steps = "bench-paint", "fake-2s", 20

    def paint(self, prompt, seed, size, on_progress=None):
        from PIL import Image
        for step in range(self.steps):
            time.sleep(PAINT_SECONDS / self.steps)
            if on_progress is not None:
                on_progress((step + 1) / self.steps)
        rng = random.Random(seed)
        top = tuple(rng.randrange(256) for _ in range(3))
        gradient = Image.linear_gradient("L").resize(size)
        return Image.merge("RGB", [gradient.point(lambda v, c=c: (v * c) // 255) for c in top])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--sound", choices=["on", "off"], default="on",
                        help="music and reading aloud (on), or neither")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    import pygame

    from engine.config import load_config
    from game.app import App

    saves = Path(tempfile.mkdtemp(prefix="dreamreel-bench-"))
    config = load_config(use_user_file=False).with_changes(
        game={"saves_dir": str(saves), "seed": 5, "world": "hollow_orbit"},
        display={"width": width, "height": height},
        prefetch={"enabled": False},   # one scene at a time: narrate, paint, read, choose
        audio={"music": "procedural", "voice": "espeak", "read_aloud": True} if args.sound == "on"
        else {"music": "none", "read_aloud": False})
    app = App(config, narrator=StreamingNarrator(), painter=SlowPainter(),
              settings_file=saves / "user.toml").open()
    driver = pygame.display.get_driver()
    app.new_game()
    rng = random.Random(1)
    times: list[float] = []
    clock = pygame.time.Clock()
    next_click = time.perf_counter() + 1.0
    images = 0
    shown_at = time.perf_counter()
    slowest: list[tuple[float, int, str]] = []
    from engine.audio.voices import sentences
    appeared: dict[int, float] = {}    # when each scene's first sentence was whole on screen
    voiced: dict[int, float] = {}      # when the mixer started reading it
    for _ in range(args.frames):
        events = []
        now = time.perf_counter()
        story = app.story
        if now >= next_click and app.session is not None:
            next_click = now + 1.2
            version = app.session.scene().current
            painted = version is not None and bool(version.image_key) \
                and app.image.key == version.image_key and not app.image.fading
            if story.choices_visible and ((painted and now - shown_at > 1.0) or now - shown_at > 8.0):
                shown_at = now
                number = rng.randrange(len(story.choices.buttons))
                events.append(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_1 + number, mod=0,
                                                 unicode=str(number + 1), scancode=0))
            else:
                events.append(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_SPACE, mod=0,
                                                 unicode=" ", scancode=0))
        key_before = app.image.key
        start = time.perf_counter()
        app.step(events)
        elapsed = (time.perf_counter() - start) * 1000.0
        times.append(elapsed)
        after = time.perf_counter()
        if app.session is not None:
            node = app.session.current
            scene = app.session.scene(node)
            text = scene.current.narration if scene.status == "ready" and scene.current \
                else app.session.stream_text(node)
            if node not in appeared and (scene.status == "ready" or len(sentences(text)) > 1):
                appeared[node] = after
            for played in app.mixer.played:
                if played.kind == "voice" and played.index == 0 and played.node not in voiced:
                    voiced[played.node] = after
        if app.image.key != key_before:
            images += 1
            shown_at = time.perf_counter()
        if os.environ.get("BENCH_DEBUG"):
            slowest.append((elapsed, len(times), ",".join(e.type == pygame.KEYDOWN and
                                                           pygame.key.name(e.key) or "" for e in events)))
        clock.tick(60)
    session = app.session
    played = list(app.mixer.played)
    latency = sorted(max(0.0, voiced[n] - appeared[n]) * 1000 for n in voiced if n in appeared)
    audio_device = app.mixer.available
    told = sum(1 for s in session.graph.scenes() if s.status == "ready") if session else 0
    turns = session.turn if session else 0
    app.close()
    times.sort()

    def pct(p: float) -> float:
        return round(times[min(len(times) - 1, int(p / 100 * len(times)))], 2)

    result = {
        "benchmark": "frame time, story screen",
        "video_driver": driver,
        "size": [width, height],
        "frames": len(times),
        "narrator_tokens_per_s": TOKENS_PER_SECOND,
        "painter_seconds_per_image": PAINT_SECONDS,
        "prefetch": False,
        "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": round(times[-1], 2),
        "mean_ms": round(statistics.fmean(times), 2),
        "target_p99_ms": 16.7, "meets_target": pct(99) < 16.7,
        "scenes_told": told, "turns_played": turns, "images_shown": images,
        "sound": args.sound, "audio_device": audio_device,
        "music_tracks_started": sum(1 for p in played if p.kind == "music"),
        "voice_lines_started": sum(1 for p in played if p.kind == "voice"),
        # from the frame a scene's first sentence is whole on screen (streamed, or the scene
        # told) to the frame the mixer starts reading it aloud
        "first_sentence_voice_ms": {
            "scenes": len(latency),
            "median": round(statistics.median(latency), 1) if latency else None,
            "max": round(latency[-1], 1) if latency else None,
            "target_ms": 300},
        "cpu_cores": os.cpu_count(),
    }
    print(json.dumps(result))
    for elapsed, index, what in sorted(slowest, reverse=True)[:12]:
        print(f"  frame {index}: {elapsed:.1f} ms {what}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
