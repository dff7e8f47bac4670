"""Benchmark: exporting a film (MP4, 1280x720, 30 fps) of 30 and of 300 scenes, painting excluded.

Prints one JSON object: for each story, the film's length and frames, the export's wall and
CPU time (this process and FFmpeg), its speed against real time, and its peak memory (the
exporting process, as the peak resident size of a process that did nothing else, and FFmpeg's,
read from /proc as the last frame goes in). Each story is played with the storylet narrator and its pictures painted and
cached in a process of its own; the export then runs in a fresh process, so neither playing nor
painting is timed or counted in its memory. The sound is the game's default (the procedural
music of each mood and the espeak-ng voice reading every line), made during the export (play
did not cache it here), so it is timed. 300 scenes are played along many branches (the
storylets end a path after a few dozen) and filmed with path "all": every told scene.

With --verify, each film is then checked as the tests check theirs, at full size: a frame
from the middle of each shot against its scene's picture as the camera framed it (mean absolute
difference, 0..255, above the subtitles; the tests' threshold is 4) and against the scene
before's, the .srt's cues against the narration, the duration against the plan.

Run: nice -n 5 .venv/bin/python bench/bench_export_film.py [--quick] [--scenes 30,300] [--verify]
     (--quick: 30 scenes only). 300 scenes take most of an hour on 2 shared cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DREAMREEL_CONFIG", str(ROOT / "bench" / "no-such-config.toml"))

SIZE = (1280, 720)
FPS = 30
WORLD = "lantern_coast"


def _config(folder: Path):
    from engine.config import load_config
    return load_config(use_user_file=False).with_changes(
        game={"saves_dir": str(folder / "saves"), "seed": 7, "painter": "procedural",
              "world": WORLD},
        images={"width": SIZE[0], "height": SIZE[1]})


def build(folder: Path, scenes: int) -> str:
    """Play a story of at least `scenes` told scenes, save it, paint and cache every picture.
    Returns the path kind to film: 'current' when one path is long enough, else 'all'."""
    from engine.export.story import open_story, path_nodes, scene_picture
    from engine.session.core import Session
    from engine.session.jobs import InlineRunner

    config = _config(folder)
    session = Session.new(config, runner=InlineRunner(), slot="bench")
    session.wait()
    chooser = random.Random(7)
    while len(session.path()) < scenes and session.choices():
        session.choose(0)
        session.wait()
    kind = "current" if len(session.path()) >= scenes else "all"
    told = lambda: sum(1 for s in session.graph.scenes() if s.current is not None)  # noqa: E731
    while kind == "all" and told() < scenes:
        if not session.choices() or chooser.random() < 0.15:
            for _ in range(chooser.randint(1, 6)):
                session.back()
        choices = session.choices()
        session.choose(chooser.randrange(len(choices)))
        session.wait()
    session.flush_saves()
    session.close()
    story = open_story(config, "bench")
    try:
        nodes = path_nodes(story, kind)
        for node in nodes:
            scene_picture(story, node, (64, 36))
    finally:
        story.close()
    return kind


def export(folder: Path, kind: str, check: bool = False) -> dict:
    """Film the saved story (this process does nothing else) and measure it."""
    from engine.export.film import export_film
    from engine.export.film_encoder import read_back
    from engine.export.story import open_story

    config = _config(folder)
    story = open_story(config, "bench")
    try:
        updates = []
        wall, cpu = time.perf_counter(), time.process_time()
        result = export_film(story, folder / "film.mp4", size=SIZE, fps=FPS, path=kind,
                             on_progress=lambda fraction, what: updates.append(fraction))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        story.close()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_python = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info = read_back(result.path)
    checks = verify(folder, kind, result.path, result.plan) if check else None
    return {
        "scenes": len(result.plan.shots), "path": kind, "sound": result.sound,
        "film_seconds": round(result.duration, 1), "frames": result.frames,
        "frames_drawn": result.drawn, "painted_during_export": result.painted,
        "export_seconds": round(wall, 2),
        "speed_x_real_time": round(result.duration / wall, 1),
        "frames_per_second": round(result.frames / wall, 1),
        "python_cpu_seconds": round(cpu, 2),
        "ffmpeg_cpu_seconds": round(children.ru_utime + children.ru_stime, 2),
        "peak_rss_mb_python": round(peak_python / 1024, 1),
        "peak_rss_mb_ffmpeg": result.encoder_peak_mb,
        "progress_updates": len(updates),
        "mp4_mb": round(result.path.stat().st_size / 2**20, 1),
        "read_back_seconds": round(info.duration, 2),
        "streams": {"video": len(info.video), "audio": len(info.audio)},
        "duration_off_plan_percent": round(abs(info.duration - result.duration)
                                           / result.duration * 100, 3),
        **({"checks": checks} if checks else {}),
    }


def frame_at(path: Path, number: int):
    """Frame `number` of a film, decoded by FFmpeg after an exact seek."""
    import numpy as np

    from engine.export.film_encoder import ffmpeg_exe
    raw = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
                          "-ss", f"{(number - 0.25) / FPS:.4f}", "-i", str(path),
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(SIZE[1], SIZE[0], 3)


def verify(folder: Path, kind: str, film: Path, plan) -> dict:
    """The checks of tests/engine/export/test_film.py, on the full-size film: a decoded frame
    from the middle of each shot against its scene's picture as the camera framed it (and
    against the next scene's), and the .srt's cues against each scene's narration."""
    import numpy as np

    from engine.export.film import subtitles_path
    from engine.export.film_frames import Camera, choose_move, picture_size
    from engine.export.story import open_story, read_story, scene_picture

    story = open_story(_config(folder), "bench")
    try:
        scenes = read_story(story, kind).scenes
        framed = []
        for shot in plan.shots:
            picture = scene_picture(story, shot.scene_id, picture_size(SIZE))
            framed.append(Camera(picture, choose_move(shot.mood, picture), shot.frames, SIZE))
    finally:
        story.close()
    top = slice(0, round(SIZE[1] * 0.62))
    own, other = [], []
    for index, shot in enumerate(plan.shots):
        frame = frame_at(film, shot.middle_frame).astype(np.int16)[top]
        step = shot.middle_frame - shot.first_frame
        view = lambda camera: np.asarray(camera.view(step), np.int16)[top]  # noqa: E731
        own.append(float(np.abs(frame - view(framed[index])).mean()))
        if len(framed) > 1:
            other.append(float(np.abs(frame - view(framed[index - 1])).mean()))
    blocks = subtitles_path(film).read_text("utf-8").strip().split("\n\n")
    texts = [" ".join(block.split("\n")[2:]) for block in blocks]
    matches, taken = True, 0
    for shot, scene in zip(plan.shots, scenes):
        mine = texts[taken:taken + len(shot.cues)]
        taken += len(shot.cues)
        matches &= " ".join(" ".join(mine).split()) == " ".join(scene.narration.split())
    return {"frame_mad_max": round(max(own), 2), "frame_mad_mean": round(sum(own) / len(own), 2),
            "other_scene_mad_min": round(min(other), 2) if other else None,
            "srt_cues": len(texts), "srt_matches_narration": bool(matches and taken == len(texts))}


def child(argv: list[str]) -> None:
    step, folder, scenes = argv[0], Path(argv[1]), int(argv[2])
    if step == "build":
        print(json.dumps({"path": build(folder, scenes)}))
    else:
        print(json.dumps(export(folder, argv[3], check="--verify" in argv)))


def run_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 scenes only")
    parser.add_argument("--scenes", default="30,300", help="story sizes, comma separated")
    parser.add_argument("--verify", action="store_true",
                        help="also check each shot's middle frame and the .srt (after timing)")
    args = parser.parse_args()
    sizes = [30] if args.quick else [int(n) for n in args.scenes.split(",")]
    runs = []
    for scenes in sizes:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            kind = run_child("build", folder, str(scenes))["path"]
            built = time.perf_counter() - started
            run = run_child("export", folder, str(scenes), kind,
                            *(["--verify"] if args.verify else []))
            run["build_and_paint_seconds"] = round(built, 1)
            runs.append(run)
            print(json.dumps(run), file=sys.stderr, flush=True)
    result = {"size": list(SIZE), "fps": FPS, "world": WORLD, "runs": runs}
    if len(runs) > 1:
        a, b = runs[0], runs[-1]
        result["seconds_per_film_minute"] = [round(r["export_seconds"] / r["film_seconds"] * 60, 2)
                                             for r in runs]
        result["time_ratio"] = round(b["export_seconds"] / a["export_seconds"], 2)
        result["film_ratio"] = round(b["film_seconds"] / a["film_seconds"], 2)
    result["cpu_count"] = os.cpu_count()
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
