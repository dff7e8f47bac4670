"""A film's soundtrack: music loops read at the film's clock, the voice placed, the music ducked."""

from __future__ import annotations

import numpy as np
import pytest

from engine.audio.bed import CHUNK, RATE
from engine.audio.clips import Clip
from engine.audio.soundtrack import (DUCK, DUCK_SECONDS, MUSIC_LEVEL, VOICE_LEVEL, Spoken,
                                     resampled, write_soundtrack)


def tone(freq: float, seconds: float, rate: int, level: float = 0.5) -> Clip:
    t = np.arange(round(seconds * rate)) / rate
    return Clip((level * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)


def rms(samples) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def test_music_and_a_line_are_mixed_with_the_music_ducked_under_it(tmp_path):
    line_file = tmp_path / "line.wav"
    line_file.write_bytes(tone(1000, 2.0, 22050, 0.4).wav_bytes())     # a "voice" at 22 kHz
    seconds = 2 * CHUNK / RATE + 4.0                  # more than two chunks
    loops = {"calm": tone(220, 4.0, RATE)}           # a loop of whole cycles (220 Hz x 4 s)
    start = 3.0
    frames = write_soundtrack(tmp_path / "sound.wav", [("calm", seconds)], loops,
                              [Spoken(start, line_file, 2.0)])
    sound = Clip.from_wav(tmp_path / "sound.wav")
    assert sound.channels == 2 and sound.rate == RATE and frames == len(sound.samples)
    assert frames == round(seconds * RATE)
    mono = sound.samples.mean(axis=1)
    # music alone, away from the line and the fades: the loop at the music's level
    alone = mono[round(1.5 * RATE): round(2.5 * RATE)]
    assert rms(alone) == pytest.approx(0.5 / np.sqrt(2) * MUSIC_LEVEL, rel=0.03)
    # during the line: the voice at its level over the music ducked to DUCK
    during = mono[round((start + 0.5) * RATE): round((start + 1.5) * RATE)]
    spectrum = np.abs(np.fft.rfft(during))
    freqs = np.fft.rfftfreq(len(during), 1 / RATE)
    at = lambda f: spectrum[np.argmin(np.abs(freqs - f))]   # noqa: E731
    assert at(220) / at(1000) == pytest.approx((0.5 * MUSIC_LEVEL * DUCK) / (0.4 * VOICE_LEVEL),
                                               rel=0.05)
    # the music eases down before the line and is back up after it
    before = mono[round((start - DUCK_SECONDS - 0.3) * RATE): round((start - DUCK_SECONDS) * RATE)]
    after = mono[round((start + 2.0 + DUCK_SECONDS + 0.1) * RATE):
                 round((start + 2.0 + DUCK_SECONDS + 0.4) * RATE)]
    assert rms(before) == pytest.approx(rms(alone), rel=0.05)
    assert rms(after) == pytest.approx(rms(alone), rel=0.05)


def test_the_loop_is_read_at_the_films_clock_so_it_crosses_chunks_without_a_seam(tmp_path):
    loops = {"calm": tone(441, 1.0, RATE)}
    seconds = CHUNK / RATE + 2.0
    write_soundtrack(tmp_path / "sound.wav", [("calm", seconds / 2), ("calm", seconds / 2)],
                     loops)
    mono = Clip.from_wav(tmp_path / "sound.wav").samples.mean(axis=1)
    middle = slice(RATE, len(mono) - 3 * RATE)       # past the fade in, before the fade out
    steps = np.abs(np.diff(mono[middle]))
    assert steps.max() < 2 * np.pi * 441 / RATE * 0.5 * MUSIC_LEVEL * 1.05   # a pure sine's


def test_voices_of_any_rate_are_resampled_to_the_films():
    clip = tone(300, 1.0, 16000)
    out = resampled(clip, RATE)
    assert len(out) == RATE
    spectrum = np.abs(np.fft.rfft(out))
    assert np.argmax(spectrum) == 300


def test_with_no_music_the_quiet_bed_plays(tmp_path):
    write_soundtrack(tmp_path / "bed.wav", [("dark", 4.0), ("bright", 4.0)], None)
    mono = Clip.from_wav(tmp_path / "bed.wav").samples.mean(axis=1)
    assert 0.005 < rms(mono[RATE: 7 * RATE]) and np.abs(mono).max() < 0.15
