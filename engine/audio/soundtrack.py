"""A film's soundtrack: the music of each shot's mood, the narration voice over it, to a WAV file.

The same music and voice the game plays (engine.audio.music, engine.audio.voices, from the same
clip cache) laid out along a film's shots: each shot's music loop read at the film's clock, so
where a mood follows itself there is no seam, cross-faded into the next shot's at the cut (the
bed's mixing, engine.audio.bed.render_chunk), and the voice's lines placed where the shot's
narration is spoken. The music ducks under the voice, easing down before a line and back up
after it. Without music (no composer and no track of the world's), the quiet procedural bed
plays instead, so a film always has sound.

The file is written a chunk at a time: the music loops (one per track) and the lines of the
chunk being written are in memory, never the whole soundtrack. Stereo, 16-bit, RATE.
"""

from __future__ import annotations

import bisect
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.audio.bed import CHUNK, LEVEL, RATE, pad_loop, render_chunk, section_bounds
from engine.audio.clips import Clip

MUSIC_LEVEL = 0.8        # the music under the film (its clips are mixed to about -18 dBFS RMS)
DUCK = 0.35              # the music's level while the voice speaks
DUCK_SECONDS = 0.3       # how long the music takes to duck before a line, and to come back
VOICE_LEVEL = 0.9


@dataclass(frozen=True)
class Spoken:
    """A line of narration in the film: when it starts (seconds) and its clip's file."""

    start: float
    path: Path
    seconds: float


def resampled(clip: Clip, rate: int = RATE) -> np.ndarray:
    """The clip as mono float32 at `rate` (linear interpolation: plenty for a voice)."""
    samples = clip.samples if clip.samples.ndim == 1 else clip.samples.mean(axis=1)
    samples = np.asarray(samples, dtype=np.float32)
    if clip.rate == rate or len(samples) == 0:
        return samples
    count = max(1, round(len(samples) * rate / clip.rate))
    return np.interp(np.arange(count) * (clip.rate / rate), np.arange(len(samples)),
                     samples).astype(np.float32)


def stereo_loop(clip: Clip, rate: int = RATE) -> np.ndarray:
    """A music clip as a (frames, 2) float32 loop at `rate`."""
    samples = np.asarray(clip.samples, dtype=np.float32)
    if samples.ndim == 1:
        samples = np.stack([samples, samples], axis=1)
    samples = samples[:, :2]
    if clip.rate != rate:
        count = max(1, round(len(samples) * rate / clip.rate))
        at = np.arange(count) * (clip.rate / rate)
        samples = np.stack([np.interp(at, np.arange(len(samples)), samples[:, c])
                            for c in range(2)], axis=1).astype(np.float32)
    return np.ascontiguousarray(samples)


def _duck(at: np.ndarray, spans: Sequence[tuple[int, int]], ramp: int) -> np.ndarray:
    """The music's gain at samples `at`: 1, easing to DUCK over `ramp` samples before each
    spoken span and back after it."""
    depth = np.zeros(len(at), dtype=np.float32)
    for begin, end in spans:
        rise = np.clip((at - (begin - ramp)) / ramp, 0.0, 1.0)
        fall = np.clip(((end + ramp) - at) / ramp, 0.0, 1.0)
        np.maximum(depth, np.minimum(rise, fall).astype(np.float32), out=depth)
    return 1.0 - (1.0 - DUCK) * depth


def write_soundtrack(path: Path, sections: Sequence[tuple[str, float]],
                     loops: dict[str, Clip] | None, spoken: Sequence[Spoken] = (),
                     *, rate: int = RATE) -> int:
    """Write the soundtrack to a stereo 16-bit WAV at `path`.

    Args:
        sections: (track, seconds) in order: which music plays under each part of the film
            (a key of `loops`; with no loops, a mood for the bed).
        loops: the music for each track, as clips that loop seamlessly; None: the bed.
        spoken: the voice's lines, each starting at its time (clips read from their files
            when the chunk reaches them).

    Returns:
        The number of sample frames written: the sections' total.
    """
    bounds = section_bounds(sections, rate)
    names = [name for name, _ in sections]
    total = bounds[-1]
    if loops:
        # each channel contiguous and 16-bit (half the memory of floats: a loop of each of eight
        # moods, 40 s long, is 56 MB), scaled back to -1..1 as a chunk is mixed
        channels = [{}, {}]
        for name, clip in loops.items():
            loop = stereo_loop(clip, rate)
            for c in range(2):
                channels[c][name] = np.round(np.clip(loop[:, c], -1, 1) * 32767).astype(np.int16)
        level = MUSIC_LEVEL / 32767.0
    else:
        bed = {mood: pad_loop(mood, rate) for mood in dict.fromkeys(names)}
        channels, level = [bed, bed], LEVEL
    lines = sorted(spoken, key=lambda line: line.start)
    starts = [round(line.start * rate) for line in lines]
    spans = [(start, start + round(line.seconds * rate)) for start, line in zip(starts, lines)]
    ramp = max(1, round(DUCK_SECONDS * rate))
    loaded: dict[int, np.ndarray] = {}
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        for start in range(0, total, CHUNK):
            stop = min(total, start + CHUNK)
            left = render_chunk(channels[0], names, bounds, start, stop, rate)
            right = left if channels[1] is channels[0] else render_chunk(
                channels[1], names, bounds, start, stop, rate)
            mix = np.stack([left, right], axis=1) * level
            first = max(0, bisect.bisect_right(starts, start - 1) - 1)
            near = [(b, e) for b, e in spans[max(0, first - 1):] if e + ramp > start
                    and b - ramp < stop]
            if near:
                mix *= _duck(np.arange(start, stop), near, ramp)[:, None]
            voice = np.zeros(stop - start, dtype=np.float32)
            for index in range(first, len(lines)):
                begin = starts[index]
                if begin >= stop:
                    break
                if index not in loaded:
                    loaded[index] = resampled(Clip.from_wav(lines[index].path), rate)
                samples = loaded[index]
                if begin + len(samples) <= start:
                    loaded.pop(index, None)
                    continue
                lo, hi = max(start, begin), min(stop, begin + len(samples))
                voice[lo - start:hi - start] += samples[lo - begin:hi - begin]
            for index in [i for i in loaded if starts[i] + len(loaded[i]) <= stop]:
                del loaded[index]
            mix += (voice * VOICE_LEVEL)[:, None]
            pcm = np.clip(mix * 32767.0, -32767, 32767).astype("<i2")
            out.writeframes(pcm.tobytes())
    return total


__all__ = ["Spoken", "resampled", "stereo_loop", "write_soundtrack"]
