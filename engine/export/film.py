"""A played story as a film: an MP4 (H.264 and AAC) with burned-in subtitles and an .srt beside it.

A title card (the world's name, "starring" the player, beside the player's portrait when the
story has one) opens the film; every scene of the path is a shot over its picture, the camera
moving slowly as the scene's mood and the picture's
composition suggest (engine.export.film_frames); cuts are cross-fades; the narration runs as
subtitles, each shot lasting as long as its text takes to read (engine.export.film_plan); an
ending card ("The End", or "To be continued") closes it. The sound is the game's own
(engine.audio.soundtrack): each shot's music, as the game's [audio] music makes it for the
scene's mood and place (from the same clip cache, so what was heard in play is not composed
again), and the narration read by the game's voice, each shot then lasting as long as its
voice speaks. With neither (music and voice "none", or the film made with music=False and
voice=False), a quiet bed of pads in each scene's mood (engine.audio.bed) lies under it, so a
film always has sound.

Nothing is held whole: pictures are loaded a shot ahead (two at a time), frames stream to
FFmpeg as they are drawn (engine.export.film_encoder), the sound is written to a file a chunk
at a time. A frame the camera has not moved is not drawn again. Pictures missing from the image
cache are painted first, with the story's painter, with progress.

The story is read through engine.export.story (a read-only copy of a slot) and never changed.
Everything is written in a working folder beside the film and renamed into place at the end:
a cancelled (JobCancelled from on_progress or from a painter) or failed export leaves no file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import DreamreelError
from engine.export.film_plan import (FADE_FROM_BLACK, FADE_TO_BLACK, FilmPlan, plan_shots,
                                     srt_text)
from engine.export.story import PathKind, Progress, read_story, scene_picture

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image as PILImage

    from engine.export.story import ExportedStory
    from engine.session.core import Session

SIZES: tuple[tuple[int, int], ...] = ((1280, 720), (1920, 1080))   # the usual; any even size works
FPS = 30
PAINT_SHARE = 0.5       # of the progress bar, when every picture must be painted first
SOUND_SHARE = 0.04      # ... for the music and the voice (most of it cached in play)
LINE_GAP = 0.25         # seconds of quiet between two spoken lines
FINISH_SHARE = 0.03     # ... for FFmpeg's last frames and moving the index to the front


@dataclass(frozen=True)
class FilmResult:
    """A written film."""

    path: Path              # the MP4
    subtitles: Path         # the .srt beside it
    plan: FilmPlan          # its shots and cues, frame by frame
    size: tuple[int, int]
    fps: int
    frames: int             # frames in the film
    drawn: int              # of which drawn (the rest repeat a frame the camera had not moved)
    painted: int            # pictures painted for it (missing from the image cache)
    seconds: float          # how long the export took
    sound: str = "bed"      # "music and voice", "music", "voice" or "bed"
    encoder_peak_mb: float | None = None   # FFmpeg's peak memory (where the system tells it)
    notes: tuple[str, ...] = ()   # why a part of the sound was left out, for the player

    @property
    def duration(self) -> float:
        return self.plan.duration


def _check(size: tuple[int, int], fps: int) -> tuple[int, int]:
    width, height = int(size[0]), int(size[1])
    if width % 2 or height % 2 or not (64 <= width <= 3840 and 36 <= height <= 2160):
        raise DreamreelError(f"A film's frame must be even, 64x36 to 3840x2160, not "
                             f"{width}x{height} (use 1280x720 or 1920x1080).")
    if not 1 <= fps <= 60:
        raise DreamreelError(f"A film runs at 1 to 60 frames a second, not {fps}.")
    return width, height


def subtitles_path(out: Path) -> Path:
    """Where a film's .srt goes: beside it, with its stem."""
    return Path(out).with_suffix(".srt")


def export_film(session: "Session", out: Path, *, size: tuple[int, int] = SIZES[0],
                fps: int = FPS, path: PathKind = "current", music: bool = True,
                voice: bool = True, on_progress: Progress | None = None) -> FilmResult:
    """Film the story's `path` to the MP4 `out` (and its subtitles to out.srt).

    Args:
        session: a story, normally opened with engine.export.story.open_story; only read
            (pictures missing from the cache are painted and cached, as in play).
        out: the .mp4 to write (its folder is made if needed; a file there is replaced).
        size: the frame, 1280x720 or 1920x1080 normally (any even size from 64x36).
        fps: frames a second.
        path: which scenes ("current", "longest" or "all"; see engine.export.story).
        music: lay the game's music under the shots ([audio] music; False: the quiet bed).
        voice: read the narration with the game's voice ([audio] voice; False: subtitles only).
        on_progress: called with (fraction done, what); JobCancelled raised from it (or from
            a painter) stops the export and removes everything it wrote.

    Returns:
        FilmResult: where the film and its subtitles are, its plan, and what it took.

    Raises:
        DreamreelError: a bad argument, a story with no told scene, or FFmpeg failing.
        PainterError, OSError: a picture could not be painted, or a file written.
    """
    from engine.audio.soundtrack import write_soundtrack
    from engine.export.film_encoder import Encoder

    started = time.perf_counter()
    size = _check(size, fps)
    report = on_progress or (lambda fraction, what: None)
    story = read_story(session, path)
    if not story.scenes:
        raise DreamreelError("This story has no told scene yet: there is no film to make.")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    encoder = None
    try:
        painted = _paint_missing(session, story, report)
        start = PAINT_SHARE * painted / len(story.scenes)
        notes: list[str] = []
        report(start, "Reading the narration")
        lines = _voice_lines(session, story, notes) if voice else {}
        plan = plan_shots(story, fps=fps, spoken={scene: sum(line.seconds for line in said)
                                                  + LINE_GAP * (len(said) - 1)
                                                  for scene, said in lines.items() if said})
        report(start + SOUND_SHARE / 2, "Composing the music")
        tracks, loops = _music(session, story, plan, notes) if music else ([], {})
        sections = _sections(plan, tracks)
        write_soundtrack(work / "sound.wav", sections, loops, _spoken(plan, lines))
        sound = " and ".join(part for part, used in (("music", bool(loops)),
                                                     ("voice", bool(lines))) if used) or "bed"
        (work / "film.srt").write_text(srt_text(plan), "utf-8")
        start += SOUND_SHARE
        encoder = Encoder(work / "film.mp4", size, fps, work / "sound.wav", work / "ffmpeg.log")
        reel = _Reel(session, story, plan, size)
        share = 1.0 - FINISH_SHARE - start
        drawn = reel.run(encoder.write,
                         lambda done, what: report(start + share * done / plan.frames, what))
        report(1.0 - FINISH_SHARE, "Finishing the film")
        encoder.finish()
        encoder_peak, encoder = encoder.peak_mb, None
        srt = subtitles_path(out)
        os.replace(work / "film.srt", srt)
        os.replace(work / "film.mp4", out)
    except BaseException:
        if encoder is not None:
            encoder.abort()
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(1.0, "Film written")
    return FilmResult(path=out, subtitles=srt, plan=plan, size=size, fps=fps,
                      frames=plan.frames, drawn=drawn, painted=painted,
                      seconds=time.perf_counter() - started, sound=sound, notes=tuple(notes),
                      encoder_peak_mb=encoder_peak)


def _paint_missing(session: "Session", story: "ExportedStory", report: Progress) -> int:
    """Paint (and cache) the pictures the image cache lacks, before any frame is drawn, so the
    encoder never waits on a painter. Returns how many were painted."""
    missing = [scene for scene in story.scenes
               if session.shipped_picture(scene.id) is None
               and not session.cache.contains(scene.image_key)]
    share = PAINT_SHARE / len(story.scenes)
    for number, scene in enumerate(missing):
        what = f"Painting scene {number + 1} of {len(missing)}"
        report(share * number, what)
        scene_picture(session, scene.id, (64, 36),
                      on_progress=lambda f, n=number, w=what: report(share * (n + f), w))
    return len(missing)


def _voice_lines(session: "Session", story: "ExportedStory", notes: list[str]) -> dict:
    """Each scene's narration spoken by the game's voice, line by line, from the clip cache
    (spoken now where play did not): {scene id: [Spoken with start 0]}. Empty, with a note,
    when there is no voice."""
    from engine.audio.clips import ClipCache
    from engine.audio.soundtrack import Spoken
    from engine.audio.voices import lines, make_voice, speak_cached
    from engine.errors import AudioError

    config = session.config
    if config.audio.voice.strip().lower() == "none":
        return {}
    cache = ClipCache(config.saves_dir / "cache" / "audio")
    spec = session.world.spec
    voices = {c.name: c.voice for c in spec.characters if c.voice}
    said: dict[int, list] = {}
    try:
        reader = make_voice(config.audio.voice)
        for scene in story.scenes:
            said[scene.id] = []
            for line in lines(scene.narration, spec.audio.narrator_voice, voices):
                file = speak_cached(reader, cache, line.text, line.voice)
                said[scene.id].append(Spoken(0.0, file, _seconds(file)))
    except AudioError as err:
        notes.append(f"The film has no narration voice: {err}")
        return {}
    return said


def _seconds(file: Path) -> float:
    import wave
    with wave.open(str(file), "rb") as handle:
        return handle.getnframes() / float(handle.getframerate())


def _spoken(plan: FilmPlan, lines: dict) -> list:
    """The voice's lines placed in the film: each shot's after its lead-in, one after another."""
    from engine.audio.soundtrack import Spoken
    from engine.export.film_plan import LEAD_IN

    placed = []
    for shot in plan.shots:
        at = shot.start + LEAD_IN
        for line in lines.get(shot.scene_id, ()):
            placed.append(Spoken(at, line.path, line.seconds))
            at += line.seconds + LINE_GAP
    return placed


def _music(session: "Session", story: "ExportedStory", plan: FilmPlan,
           notes: list[str]) -> tuple[list[str], dict]:
    """The game's music for each shot, as the game plays it for the scene's mood and place
    (from the clip cache, composed now where play did not): (each shot's track, {track: clip}).
    Empty, with a note, when there is no music."""
    from engine.audio.clips import ClipCache
    from engine.audio.music import DEFAULT_SECONDS, make_composer, music_for
    from engine.errors import AudioError

    config = session.config
    if config.audio.music.strip().lower() == "none":
        return [], {}
    cache = ClipCache(config.saves_dir / "cache" / "audio")
    places = {scene.id: scene.location for scene in story.scenes}
    player = session.player().template_context()     # as play asks (a model's prompt names them)
    tracks, loops = [], {}
    try:
        composer = make_composer(config.audio.music)
        for shot in plan.shots:
            track = music_for(session.world, shot.mood, places.get(shot.scene_id, ""),
                              composer=composer, cache=cache, seconds=DEFAULT_SECONDS,
                              player=player)
            if track is None:
                return [], {}
            if track.problem and track.problem not in notes:
                notes.append(track.problem)
            if track.key not in loops:
                loops[track.key] = _decoded(track.path)
            tracks.append(track.key)
    except AudioError as err:
        notes.append(f"The film has the quiet bed instead of music: {err}")
        return [], {}
    return tracks, loops


def _decoded(path: Path):
    """A music file as a Clip: WAV read directly, Ogg Vorbis decoded by FFmpeg."""
    import subprocess

    import numpy as np

    from engine.audio.clips import Clip
    from engine.errors import AudioError
    from engine.export.film_encoder import ffmpeg_exe

    if Path(path).suffix.lower() != ".ogg":
        try:
            return Clip.from_wav(path)
        except (OSError, ValueError) as err:
            raise AudioError(f"{path}: {err}") from None
    result = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "f32le",
                             "-ac", "2", "-ar", "44100", "-"], capture_output=True, timeout=300)
    if result.returncode != 0 or not result.stdout:
        raise AudioError(f"{path}: FFmpeg cannot decode it "
                         f"({result.stderr.decode('utf-8', 'replace').strip()[-200:]})")
    return Clip(np.frombuffer(result.stdout, "<f4").reshape(-1, 2).copy(), 44100)


def _sections(plan: FilmPlan, tracks: list[str] | None = None) -> list[tuple[str, float]]:
    """The soundtrack's sections: each shot's music (its track, or its mood for the bed) for
    its length; the cards take the music of the shot beside them."""
    names = tracks or [shot.mood for shot in plan.shots]
    return ([(names[0], plan.title_frames / plan.fps)]
            + [(name, shot.duration) for name, shot in zip(names, plan.shots)]
            + [(names[-1], plan.ending_frames / plan.fps)])


class _Reel:
    """Draws the film's frames in order and hands each to `write` (bytes), drawing a frame only
    when what it shows has changed: the camera's view, a dissolve's step or the subtitle."""

    def __init__(self, session: "Session", story: "ExportedStory", plan: FilmPlan,
                 size: tuple[int, int]):
        from engine.export.film_encoder import pack
        from engine.export.film_frames import Subtitler
        self.session, self.story, self.plan, self.size = session, story, plan, size
        self.subtitler = Subtitler(size)
        self._pack = pack
        self._cameras: dict[int, object] = {}
        self._last_key: object = None
        self._last_bytes = b""
        self.drawn = 0

    def camera(self, index: int):
        """Shot `index`'s camera (its picture loaded); only this shot's and the next are kept."""
        from engine.export.film_frames import Camera, choose_move, picture_size
        if index not in self._cameras:
            shot = self.plan.shots[index]
            picture = scene_picture(self.session, shot.scene_id, picture_size(self.size))
            self._cameras[index] = Camera(picture, choose_move(shot.mood, picture), shot.frames,
                                          self.size)
        for old in [key for key in self._cameras if key < index - 1]:
            del self._cameras[old]
        return self._cameras[index]

    def _emit(self, write, key, draw) -> None:
        if key != self._last_key:
            image: PILImage.Image = draw()
            self._last_key, self._last_bytes = key, self._pack(image)
            self.drawn += 1
        write(self._last_bytes)

    def run(self, write, progress) -> int:
        """Write every frame; progress(frames done, what) about once a second of film.
        Returns how many frames were drawn."""
        from engine.export.film_frames import black, blend, card
        plan, size, fade = self.plan, self.size, self.plan.crossfade_frames
        done, shots = 0, len(plan.shots)

        def tick(what: str) -> None:
            nonlocal done
            done += 1
            if done % plan.fps == 0:
                progress(done, what)

        # title card: in from black, then dissolving into the first shot
        first = self.camera(0)
        title = card(first.view(0), size, plan.title, plan.starring,
                     portrait=self.story.portrait)
        fade_in = min(plan.title_frames - fade, round(FADE_FROM_BLACK * plan.fps))
        for step in range(plan.title_frames):
            into = step - (plan.title_frames - fade)
            if into >= 0:
                amount = (into + 1) / (fade + 1)
                self._emit(write, ("title>", step), lambda a=amount: blend(title, first.view(0), a))
            elif step < fade_in:
                amount = (step + 1) / (fade_in + 1)
                self._emit(write, ("title<", step), lambda a=amount: blend(black(size), title, a))
            else:
                self._emit(write, ("title",), lambda: title)
            tick("Filming the title")
        ending = None
        for index, shot in enumerate(plan.shots):
            camera = self.camera(index)
            if index + 1 < shots:
                following = self.camera(index + 1).view(0)
            else:
                ending = card(camera.view(shot.frames - 1), size, plan.ending)
                following = ending
            cues, cue = list(shot.cues), 0
            what = f"Filming scene {index + 1} of {shots}"
            for step in range(shot.frames):
                frame = shot.first_frame + step
                while cue < len(cues) and cues[cue].end_frame <= frame:
                    cue += 1
                text = cues[cue].text if cue < len(cues) and cues[cue].first_frame <= frame else ""
                into = step - (shot.frames - fade)
                box = camera.box(step)
                key = ("shot", index, box, into if into >= 0 else None, text)
                self._emit(write, key, lambda s=step, i=into, t=text, f=following:
                           self._shot_frame(camera, s, i, t, f))
                tick(what)
        # ending card: held, then out to black
        fade_out = min(plan.ending_frames, round(FADE_TO_BLACK * plan.fps))
        for step in range(plan.ending_frames):
            out_step = step - (plan.ending_frames - fade_out)
            if out_step >= 0:
                amount = (out_step + 1) / fade_out
                self._emit(write, ("end>", step), lambda a=amount: blend(ending, black(size), a))
            else:
                self._emit(write, ("end",), lambda: ending)
            tick("Filming the ending")
        return self.drawn

    def _shot_frame(self, camera, step: int, into: int, text: str, following):
        from engine.export.film_frames import blend
        image = camera.view(step)
        if into >= 0:
            image = blend(image, following, (into + 1) / (self.plan.crossfade_frames + 1))
        if text:
            image = self.subtitler.over(image, text)
        return image


__all__ = ["FilmResult", "SIZES", "export_film", "plan_shots", "subtitles_path"]
