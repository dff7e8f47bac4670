"""A quiet procedural sound bed: a soft pad chord for each mood, streamed to a 16-bit WAV file.

A film made without a sound backend still has sound: under each shot, a slow, breathing pad
whose chord says the scene's mood (an open major for calm, a low minor for dark, a tritone
shimmer for eerie...), each mood blending into the next across the cut, faded in at the start
and out at the end. It sits well below speech (about -20 dBFS at its peak) so a narration voice
can be laid over it later.

Each mood's pad is a seamless loop (every partial and every slow swell makes a whole number of
cycles in LOOP_SECONDS), made once and read at the film's own clock, so two sections of one mood
join without a seam. The file is written a chunk at a time: however long the film, only the
loops and one chunk are in memory. This module writes sound only; it knows nothing of stories,
films or encoders.
"""

from __future__ import annotations

import bisect
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

RATE = 44100            # samples a second (CD rate: what a voice track will use too)
LEVEL = 0.1             # the bed's peak, of full scale (-20 dBFS): quiet under a voice
LOOP_SECONDS = 12.0     # each mood's pad repeats after this long
BLEND_SECONDS = 1.5     # two moods cross-fade over this long, centred on the cut
FADE_IN_SECONDS = 1.0   # from silence at the start of the film
FADE_OUT_SECONDS = 2.0  # to silence at its end
CHUNK = 1 << 17         # samples computed and written at a time

# mood -> (root in Hz, the chord's notes in semitones above it, tremolo cycles a loop, depth)
CHORDS: dict[str, tuple[float, tuple[int, ...], int, float]] = {
    "calm":       (110.00, (0, 7, 12, 16, 19), 0, 0.0),     # A: open major, wide and still
    "bright":     (130.81, (0, 4, 7, 14, 19), 0, 0.0),      # C: major add nine, higher
    "tense":      (73.42, (0, 7, 13, 18), 12, 0.25),        # D: minor ninth and tritone, a pulse
    "dark":       (65.41, (0, 3, 7, 12, 15), 0, 0.0),       # C, low: minor
    "eerie":      (164.81, (0, 6, 11, 14), 6, 0.35),        # E: tritone and major seventh, wavering
    "melancholy": (110.00, (0, 3, 7, 10, 15), 0, 0.0),      # A: minor seventh
    "triumphant": (146.83, (0, 7, 12, 16, 19, 24), 0, 0.0),  # D: major, wide open
    "mysterious": (92.50, (0, 2, 7, 10, 15), 3, 0.15),      # F#: suspended, slowly swaying
}
DEFAULT_MOOD = "calm"
PARTIALS = (1.0, 0.35, 0.12)   # the amplitude of each harmonic: a soft, flute-like tone


def _add_sine(spectrum: np.ndarray, length: int, cycles: int, amplitude: float,
              phase: float) -> None:
    """Add amplitude * sin(2 pi cycles t / length + phase) to an rfft spectrum of `length`."""
    if 0 < cycles < len(spectrum):
        spectrum[cycles] += (length / 2.0) * amplitude * -1j * np.exp(1j * phase)


def pad_loop(mood: str, rate: int = RATE) -> np.ndarray:
    """One seamless loop of the mood's pad, float32 in -1..1 (peak 1), LOOP_SECONDS long.

    Unknown moods get the calm pad. Frequencies are rounded to whole cycles a loop (at most
    1/24 Hz off: inaudible), and each note has a slightly detuned twin, so the chord beats
    slowly instead of sounding like an organ. Every note swells and fades once or twice a loop.
    Being whole cycles, the sines are summed as one spectrum and made in a single inverse FFT.
    """
    root, notes, tremolo, depth = CHORDS.get(mood, CHORDS[DEFAULT_MOOD])
    length = round(LOOP_SECONDS * rate)
    spectrum = np.zeros(length // 2 + 1, dtype=np.complex128)
    for index, semitones in enumerate(notes):
        cycles = round(root * 2.0 ** (semitones / 12.0) * LOOP_SECONDS)   # whole cycles a loop
        weight = 1.0 / (1.0 + 0.35 * index)         # upper notes softer
        breath, breath_phase = 1 + index % 2, index * 1.7   # the swell: 0.7 + 0.3 sin(...)
        for harmonic, amplitude in enumerate(PARTIALS, start=1):
            for twin in (0, 1):                     # the note and its detuned twin
                k, phase = cycles * harmonic + twin, index + twin * 0.5
                a = weight * amplitude
                # a sin(v) (0.7 + 0.3 sin(u)) = 0.7a sin(v) + 0.15a [cos(v-u) - cos(v+u)]
                _add_sine(spectrum, length, k, 0.7 * a, phase)
                _add_sine(spectrum, length, k - breath, 0.15 * a,
                          phase - breath_phase + np.pi / 2)
                _add_sine(spectrum, length, k + breath, -0.15 * a,
                          phase + breath_phase + np.pi / 2)
    signal = np.fft.irfft(spectrum, n=length)
    if tremolo:
        turn = np.arange(length, dtype=np.float64) * (2.0 * np.pi * tremolo / length)
        signal *= 1.0 - depth * (0.5 + 0.5 * np.sin(turn))
    signal /= max(1e-9, float(np.abs(signal).max()))
    return signal.astype(np.float32)


def section_bounds(sections: Sequence[tuple[str, float]], rate: int) -> list[int]:
    """Where each section starts, in samples, and (last) where the bed ends."""
    bounds, elapsed = [0], 0.0
    for _, seconds in sections:
        elapsed += max(0.0, float(seconds))
        bounds.append(round(elapsed * rate))
    return bounds


def _looped(loop: np.ndarray, start: int, count: int) -> np.ndarray:
    """loop's samples start..start+count, read round and round (a view when it can be)."""
    offset = start % len(loop)
    if offset + count <= len(loop):
        return loop[offset:offset + count]
    return np.resize(np.roll(loop, -offset), count)


def _ramp(at: np.ndarray, begin: int, length: int) -> np.ndarray:
    """0 before `begin`, rising linearly to 1 over `length` samples, then 1."""
    return np.clip((at - begin) / float(length), 0.0, 1.0).astype(np.float32)


def _halves(bounds: Sequence[int], half: int) -> list[int]:
    """Each cut's half cross-fade, in samples: `half`, or less where a section beside it is
    too short to hold it (so that the weights at every sample still sum to one)."""
    return [max(1, min(half, (bounds[i] - bounds[i - 1]) // 2, (bounds[i + 1] - bounds[i]) // 2))
            if 0 < i < len(bounds) - 1 else 1 for i in range(len(bounds))]


def render_chunk(loops: dict[str, np.ndarray], moods: Sequence[str], bounds: Sequence[int],
                 start: int, stop: int, rate: int = RATE) -> np.ndarray:
    """The bed's samples start..stop (float32, peak about 1): each section's pad weighted by a
    linear cross-fade of BLEND_SECONDS at its cuts, with the film's fade in and fade out.

    A section's pad is read at the film's clock, so where one mood follows itself the
    cross-fade sums to the very same signal: no seam.
    """
    half = max(1, round(BLEND_SECONDS * rate / 2))
    halves = _halves(bounds, half)
    total, count = bounds[-1], stop - start
    at = None                                   # sample numbers, made only near a ramp
    out = np.zeros(count, dtype=np.float32)
    first = max(0, bisect.bisect_right(bounds, start - half) - 1)
    last = min(len(moods) - 1, bisect.bisect_left(bounds, stop + half))
    for section in range(first, last + 1):
        begin, end = bounds[section], bounds[section + 1]
        rise, fall = halves[section], halves[section + 1]
        if end + fall <= start or begin - rise >= stop:
            continue
        pad = _looped(loops[moods[section]], start, count)
        rising = section > 0 and begin + rise > start
        falling = section < len(moods) - 1 and end - fall < stop
        if rising or falling:
            at = np.arange(start, stop) if at is None else at
            weight = np.ones(count, dtype=np.float32)
            if rising:
                weight *= _ramp(at, begin - rise, 2 * rise)
            if falling:
                weight *= 1.0 - _ramp(at, end - fall, 2 * fall)
            pad = pad * weight
        out += pad
    fade_in = max(1, round(FADE_IN_SECONDS * rate))
    fade_out = max(1, round(FADE_OUT_SECONDS * rate))
    if start < fade_in or stop > total - fade_out:
        at = np.arange(start, stop) if at is None else at
        out *= _ramp(at, 0, fade_in) * (1.0 - _ramp(at, total - fade_out, fade_out))
    return out


def write_bed(path: Path, sections: Sequence[tuple[str, float]], *, rate: int = RATE,
              level: float = LEVEL) -> int:
    """Write the bed for `sections` ((mood, seconds) in order) to a mono 16-bit WAV at `path`.

    The file lasts exactly the sections' total (rounded to a sample), so it lines up with the
    film it is made for. It is written a chunk at a time: memory does not grow with its length.

    Returns:
        The number of samples written.
    """
    moods = [mood if mood in CHORDS else DEFAULT_MOOD for mood, _ in sections]
    bounds = section_bounds(sections, rate)
    loops = {mood: pad_loop(mood, rate) for mood in dict.fromkeys(moods)}
    total = bounds[-1]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        for start in range(0, total, CHUNK):
            stop = min(total, start + CHUNK)
            samples = render_chunk(loops, moods, bounds, start, stop, rate) * (level * 32767.0)
            out.writeframes(np.clip(samples, -32767, 32767).astype("<i2").tobytes())
    return total


__all__ = ["CHORDS", "LEVEL", "RATE", "pad_loop", "render_chunk", "section_bounds", "write_bed"]
