"""A film's shot list: which scene is on screen when, for how long, and its subtitles.

The plan is pure arithmetic on the story's text (no picture, no encoder), so a test can hold
the written film against it. The film is a title card, one shot per scene of the path, and an
ending card. A shot lasts as long as its narration takes to read (or, where a narration voice
exists, to speak), and no less than MIN_SHOT:

    shot = lead-in + its cues + the cross-fade into the next shot

A scene's narration is cut into cues of at most two lines of LINE_CHARS: a cue holds whole
sentences where they fit, and a longer sentence runs over several cues, cut between words. A cue
shows for its reading time, len(text) / READING_CPS seconds, never less than MIN_CUE. Reading
speed is the subtitling norm for adults (about 17 characters a second, counting spaces): slower
than speech, so the text can be read with time left to look at the picture. Every time is
snapped to a frame, so the frames written, the burned-in text and the .srt agree exactly.

This module plans only: it reads nothing, draws nothing and writes nothing (srt_text returns
the sidecar's text for the exporter to write).
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

READING_CPS = 17.0     # characters a second a viewer reads comfortably (subtitle norm for adults)
MIN_CUE = 1.5          # seconds: even a single word stays up long enough to be seen
LINE_CHARS = 42        # characters a subtitle line (the broadcast norm), two lines a cue
CUE_LINES = 2
LEAD_IN = 0.5          # seconds of picture before a shot's first cue
CROSSFADE = 0.5        # seconds each cut dissolves over (the end of the shot, without text)
MIN_SHOT = 3.0         # seconds: a scene with a line of text still gets a look
MAX_SHOT = 45.0        # seconds: a very long narration is read faster rather than dragging on
TITLE_SECONDS = 4.0    # the title card, fading in from black
ENDING_SECONDS = 4.0   # the ending card, fading out to black
FADE_FROM_BLACK = 1.0  # seconds at the very start, and (FADE_TO_BLACK) at the very end
FADE_TO_BLACK = 1.5

_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$")   # a word that ends one
_CLAUSE_END = re.compile(r"([,;:]|\u2014|--)[\"'\u201d\u2019)\]]*$|^(\u2014|--)$")


@dataclass(frozen=True)
class Cue:
    """One subtitle: its text (one or two lines, joined by a newline) and its frames."""

    index: int          # 1-based, over the whole film (as the .srt numbers them)
    text: str
    first_frame: int    # shown from this frame ...
    end_frame: int      # ... up to, not including, this one
    fps: int

    @property
    def start(self) -> float:
        return self.first_frame / self.fps

    @property
    def end(self) -> float:
        return self.end_frame / self.fps


@dataclass(frozen=True)
class Shot:
    """A scene on screen: its frames, its mood and its cues."""

    index: int          # 0-based among the shots
    scene_id: int
    mood: str
    first_frame: int
    frames: int         # its length, the cross-fade into what follows included
    cues: tuple[Cue, ...]
    fps: int

    @property
    def end_frame(self) -> int:
        return self.first_frame + self.frames

    @property
    def start(self) -> float:
        return self.first_frame / self.fps

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    @property
    def middle_frame(self) -> int:
        return self.first_frame + self.frames // 2


@dataclass(frozen=True)
class FilmPlan:
    """The whole film, frame by frame: title card, shots, ending card."""

    fps: int
    title: str              # the world's name
    starring: str           # "starring <player>" ("" when the player has no name)
    ending: str             # "The End", or "To be continued" where the path did not end
    title_frames: int
    shots: tuple[Shot, ...]
    ending_frames: int
    crossfade_frames: int   # each cut dissolves over this many frames (the end of what is cut)

    @property
    def frames(self) -> int:
        return self.title_frames + sum(shot.frames for shot in self.shots) + self.ending_frames

    @property
    def duration(self) -> float:
        """The film's length in seconds (what the MP4 must last)."""
        return self.frames / self.fps

    @property
    def cues(self) -> tuple[Cue, ...]:
        return tuple(cue for shot in self.shots for cue in shot.cues)


def sentences(paragraph: str) -> list[str]:
    """A paragraph's sentences, cut after a word that ends in . ! ? or an ellipsis (closing
    quotes and brackets included): every word is kept, in order."""
    found, words = [], []
    for word in paragraph.split():
        words.append(word)
        if _SENTENCE_END.search(word):
            found.append(" ".join(words))
            words = []
    if words:
        found.append(" ".join(words))
    return found


def wrap(text: str, width: int = LINE_CHARS) -> list[str]:
    """Greedy line wrap between words (a word longer than a line is cut)."""
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def clauses(sentence: str) -> list[str]:
    """A sentence cut after its commas, semicolons, colons and dashes (every word kept)."""
    found, words = [], []
    for word in sentence.split():
        words.append(word)
        if _CLAUSE_END.search(word):
            found.append(" ".join(words))
            words = []
    if words:
        found.append(" ".join(words))
    return found


def _pack(units: list[str], fits) -> list[str]:
    """Units (sentences, or a sentence's clauses) joined greedily while `fits` says so."""
    packed: list[str] = []
    for unit in units:
        if packed and fits(f"{packed[-1]} {unit}"):
            packed[-1] = f"{packed[-1]} {unit}"
        else:
            packed.append(unit)
    return packed


def split_cues(narration: str, width: int = LINE_CHARS, lines: int = CUE_LINES) -> list[str]:
    """The narration as subtitle cues, each at most `lines` lines of `width` characters, the
    lines joined by a newline. Sentences are kept whole where they fit (several short ones
    share a cue); a longer one is cut between clauses, and a clause too long for a cue between
    words. Paragraphs never share a cue, and the words stay in order: joining the cues with
    spaces gives the narration back, white space aside."""
    def fits(text: str) -> bool:
        return len(wrap(text, width)) <= lines

    cues: list[str] = []
    for paragraph in re.split(r"\n\s*\n", narration):
        pieces: list[str] = []
        for sentence in sentences(" ".join(paragraph.split())):
            if fits(sentence):
                pieces.append(sentence)
                continue
            for clause in _pack(clauses(sentence), fits):
                if fits(clause):
                    pieces.append(clause)
                else:
                    lined = wrap(clause, width)
                    pieces += [" ".join(lined[i:i + lines]) for i in range(0, len(lined), lines)]
        cues += _pack(pieces, fits)
    return ["\n".join(wrap(cue, width)) for cue in cues]


def _frames(seconds: float, fps: int) -> int:
    return max(0, round(seconds * fps))


def _cue_seconds(cues: list[str], spoken: float | None) -> list[float]:
    """How long each cue shows: its reading time; where a voice speaks the narration, the
    voice's time shared by length (the text follows the voice)."""
    reading = [max(MIN_CUE, len(cue.replace("\n", " ")) / READING_CPS) for cue in cues]
    if spoken is None or not cues:
        return reading
    characters = sum(len(cue) for cue in cues) or 1
    return [max(MIN_CUE, spoken * len(cue) / characters) for cue in cues]


def plan_shots(story, *, fps: int = 30, spoken: Mapping[int, float] | None = None) -> FilmPlan:
    """The film of `story` (an ExportedStory): title card, a shot a scene, ending card.

    Args:
        story: engine.export.story.ExportedStory (anything with world_title, player_name and
            scenes of id, narration, mood and ending).
        fps: frames a second; every time in the plan is a whole frame.
        spoken: seconds the narration voice takes to speak each scene (by scene id), where a
            voice exists; those shots last as long as the voice, the others as long as reading.

    Returns:
        The FilmPlan; its duration is what the written film lasts.
    """
    if fps < 1:
        raise ValueError(f"fps must be at least 1, not {fps}")
    spoken = spoken or {}
    fade = _frames(CROSSFADE, fps)
    lead = _frames(LEAD_IN, fps)
    at = _frames(TITLE_SECONDS, fps)
    shots, cue_number = [], 1
    for index, scene in enumerate(story.scenes):
        texts = split_cues(scene.narration)
        seconds = _cue_seconds(texts, spoken.get(scene.id))
        reading = sum(seconds)
        wanted = LEAD_IN + reading + CROSSFADE
        shot_seconds = min(MAX_SHOT, max(MIN_SHOT, wanted))
        if scene.id in spoken:          # a voice is never cut short
            shot_seconds = max(shot_seconds, wanted)
        frames = max(lead + fade + len(texts), math.ceil(shot_seconds * fps - 1e-9))
        # the cues fill the shot between the lead-in and the cross-fade, stretched or squeezed
        room = frames - lead - fade
        scale = room / (reading * fps) if reading > 0 and wanted > shot_seconds else 1.0
        cues, cursor = [], at + lead
        for number, (text, length) in enumerate(zip(texts, seconds)):
            last = number == len(texts) - 1
            stop = at + lead + room if last else min(at + lead + room,
                                                      cursor + max(1, round(length * fps * scale)))
            if stop <= cursor:
                stop = cursor + 1
            cues.append(Cue(cue_number, text, cursor, stop, fps))
            cue_number += 1
            cursor = stop
        shots.append(Shot(index, scene.id, scene.mood, at, frames, tuple(cues), fps))
        at += frames
    finished = bool(story.scenes) and story.scenes[-1].ending
    player = (story.player_name or "").strip()
    return FilmPlan(fps=fps, title=story.world_title, starring=f"starring {player}" if player else "",
                    ending="The End" if finished else "To be continued",
                    title_frames=_frames(TITLE_SECONDS, fps), shots=tuple(shots),
                    ending_frames=_frames(ENDING_SECONDS, fps), crossfade_frames=fade)


def _timestamp(frame: int, fps: int) -> str:
    millis = round(frame * 1000 / fps)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d},{millis:03d}"


def srt_text(plan: FilmPlan) -> str:
    """The plan's cues as a SubRip (.srt) file: the very cues burned into the picture."""
    blocks = [f"{cue.index}\n{_timestamp(cue.first_frame, cue.fps)} --> "
              f"{_timestamp(cue.end_frame, cue.fps)}\n{cue.text}\n" for cue in plan.cues]
    return "\n".join(blocks)


__all__ = ["Cue", "FilmPlan", "Shot", "plan_shots", "split_cues", "srt_text", "sentences",
           "wrap", "READING_CPS", "MIN_CUE", "MIN_SHOT", "MAX_SHOT", "LINE_CHARS"]
