"""The procedural score's instruments: one note (or drum hit) at a time, as numpy samples.

Each voice is a small additive or FM synthesizer: a soft pad with a detuned twin, bowed strings
with vibrato, a plucked string whose upper harmonics die first, a glassy FM bell, a brass tone
that brightens as it swells, a round bass, and four drums (kick, snare, hat, low tom). A note is
mono float32 with its own attack and release, peak about 1; the composer scales, pans and places
it. Notes depend only on their arguments, so the composer computes each (voice, pitch, length)
once and reuses it. This module makes samples only: no scores, no mixing, no files.
"""

from __future__ import annotations

import numpy as np

TAU = np.float32(2.0 * np.pi)
DRUMS = ("kick", "snare", "hat", "tom")


def midi_hz(note: float) -> float:
    """The frequency of a MIDI note number (69 = A 440 Hz)."""
    return 440.0 * 2.0 ** ((float(note) - 69.0) / 12.0)


def _times(count: int, rate: int) -> np.ndarray:
    return np.arange(count, dtype=np.float32) / np.float32(rate)


def _adsr(count: int, held: int, attack: int, release: int) -> np.ndarray:
    """1 after a raised-cosine attack, held `held` samples, then a raised-cosine release to 0."""
    env = np.ones(count, dtype=np.float32)
    attack = max(1, min(attack, held))
    env[:attack] = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, attack, dtype=np.float32))
    tail = count - held
    if tail > 0:
        env[held:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, tail, dtype=np.float32))
    return env


def _partials(phase: np.ndarray, amplitudes, rate_hz: float, rate: int) -> np.ndarray:
    """sum of a_k sin(k phase) for the harmonics below the Nyquist frequency."""
    out = np.zeros_like(phase)
    for k, amplitude in enumerate(amplitudes, start=1):
        if amplitude and k * rate_hz < rate * 0.45:
            out += np.float32(amplitude) * np.sin(phase * np.float32(k))
    return out


def pad(freq: float, held: int, rate: int) -> np.ndarray:
    """A soft, slowly swelling pad: three gentle harmonics and a quieter twin 4 cents sharp."""
    release = int(0.9 * rate)
    count = held + release
    t = _times(count, rate)
    tone = np.zeros(count, dtype=np.float32)
    for detune, weight in ((1.0, 1.0), (1.0023, 0.35)):   # a quieter twin: a gentle shimmer
        phase = t * np.float32(TAU * freq * detune)
        tone += _partials(phase, (weight, 0.28 * weight, 0.1 * weight), freq, rate)
    return tone * _adsr(count, held, int(0.6 * rate), release) * np.float32(0.7)


def strings(freq: float, held: int, rate: int) -> np.ndarray:
    """Bowed strings: a saw-like tone (harmonics 1/k) with a 5 Hz vibrato that sets in late."""
    release = int(0.2 * rate)
    count = held + release
    t = _times(count, rate)
    depth = np.minimum(t * np.float32(2.0), np.float32(1.0)) * np.float32(freq * 0.0025 / 5.0)
    phase = t * np.float32(TAU * freq) + depth * np.sin(t * np.float32(TAU * 5.0))
    tone = _partials(phase, [1.0 / k for k in range(1, 11)], freq, rate)
    return tone * _adsr(count, held, int(0.05 * rate), release) * np.float32(0.55)


def pluck(freq: float, held: int, rate: int) -> np.ndarray:
    """A plucked string (harp, guitar): it rings about 1.6 s whatever the note's length, and
    each harmonic dies faster than the one below it, so the tone darkens as it fades."""
    count = int(1.6 * rate)
    t = _times(count, rate)
    phase = t * np.float32(TAU * freq)
    tone = np.zeros(count, dtype=np.float32)
    for k in range(1, 8):
        if k * freq < rate * 0.45:
            decay = np.exp(t * np.float32(-(2.0 + 1.6 * k)))
            tone += np.float32(0.9 / k ** 1.3) * decay * np.sin(phase * np.float32(k))
    tone[: int(0.003 * rate)] *= np.linspace(0.0, 1.0, int(0.003 * rate), dtype=np.float32)
    fade = int(0.05 * rate)
    tone[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return tone


def bell(freq: float, held: int, rate: int) -> np.ndarray:
    """A glassy FM bell: a modulator at 3.5 times the pitch whose depth dies away, so the strike
    is metallic and the ring pure. It rings 2.5 s whatever the note's length."""
    count = int(2.5 * rate)
    t = _times(count, rate)
    index = np.float32(2.2) * np.exp(t * np.float32(-3.0))
    tone = np.sin(t * np.float32(TAU * freq) +
                  index * np.sin(t * np.float32(TAU * freq * 3.5))) * np.exp(t * np.float32(-1.4))
    tone += np.float32(0.3) * np.sin(t * np.float32(TAU * freq * 2.0)) * np.exp(t * np.float32(-2.5))
    tone[: int(0.002 * rate)] *= np.linspace(0.0, 1.0, int(0.002 * rate), dtype=np.float32)
    fade = int(0.05 * rate)
    tone[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return tone * np.float32(0.7)


def brass(freq: float, held: int, rate: int) -> np.ndarray:
    """Brass: harmonics that grow brighter as the note swells (amplitude 1/k times a brightness
    to the power k-1), the way a horn opens up when blown harder."""
    release = int(0.15 * rate)
    count = held + release
    t = _times(count, rate)
    bright = np.float32(0.35) + np.float32(0.35) * np.minimum(t * np.float32(10.0), np.float32(1.0))
    phase = t * np.float32(TAU * freq)
    tone = np.zeros(count, dtype=np.float32)
    weight = np.ones(count, dtype=np.float32)
    for k in range(1, 10):
        if k * freq >= rate * 0.45:
            break
        tone += weight * np.float32(1.0 / k) * np.sin(phase * np.float32(k))
        weight = weight * bright
    return tone * _adsr(count, held, int(0.06 * rate), release) * np.float32(0.5)


def bass(freq: float, held: int, rate: int) -> np.ndarray:
    """A round bass: a sine with a little second and third harmonic, which settles after the
    attack."""
    release = int(0.12 * rate)
    count = held + release
    t = _times(count, rate)
    phase = t * np.float32(TAU * freq)
    tone = _partials(phase, (1.0, 0.3, 0.1), freq, rate)
    settle = np.float32(0.7) + np.float32(0.3) * np.exp(t * np.float32(-6.0))
    return tone * settle * _adsr(count, held, int(0.008 * rate), release) * np.float32(0.8)


def drum(name: str, rate: int) -> np.ndarray:
    """One drum hit ("kick", "snare", "hat" or "tom"), the same every time (seeded noise)."""
    noise_rng = np.random.default_rng(7)
    if name == "kick":
        t = _times(int(0.45 * rate), rate)
        freq = np.float32(45.0) + np.float32(75.0) * np.exp(t * np.float32(-30.0))
        phase = np.cumsum(freq) * np.float32(TAU / rate)
        return np.sin(phase) * np.exp(t * np.float32(-8.0))
    if name == "snare":
        t = _times(int(0.25 * rate), rate)
        noise = noise_rng.standard_normal(len(t)).astype(np.float32)
        noise = np.diff(noise, prepend=np.float32(0.0)) * np.float32(0.35)
        body = np.sin(t * np.float32(TAU * 190.0)) * np.exp(t * np.float32(-30.0))
        return (noise * np.exp(t * np.float32(-20.0)) + np.float32(0.6) * body) * np.float32(0.8)
    if name == "hat":
        t = _times(int(0.07 * rate), rate)
        noise = noise_rng.standard_normal(len(t) + 2).astype(np.float32)
        noise = (noise[2:] - 2 * noise[1:-1] + noise[:-2]) * np.float32(0.15)
        return noise * np.exp(t * np.float32(-60.0))
    if name == "tom":
        t = _times(int(1.2 * rate), rate)
        freq = np.float32(68.0) + np.float32(30.0) * np.exp(t * np.float32(-12.0))
        phase = np.cumsum(freq) * np.float32(TAU / rate)
        tone = np.sin(phase) + np.float32(0.35) * np.sin(phase * np.float32(1.5))
        return tone * np.exp(t * np.float32(-3.2)) * np.float32(0.9)
    raise ValueError(f"unknown drum {name!r}; known: {', '.join(DRUMS)}")


VOICES = {"pad": pad, "strings": strings, "pluck": pluck, "bell": bell, "brass": brass,
          "bass": bass}


def note(voice: str, midi: float, held: int, rate: int) -> np.ndarray:
    """One note of a pitched voice (a name from VOICES), `held` samples before its release."""
    return VOICES[voice](midi_hz(midi), max(1, int(held)), rate)


__all__ = ["DRUMS", "VOICES", "drum", "midi_hz", "note"]
