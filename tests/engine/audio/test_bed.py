"""The film's quiet sound bed: a pad chord a mood, streamed to a WAV file a chunk at a time."""

from __future__ import annotations

import wave

import numpy as np

from engine.audio import bed
from engine.audio.bed import CHORDS, LEVEL, RATE, pad_loop, render_chunk, write_bed


def read_wav(path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as file:
        assert file.getnchannels() == 1 and file.getsampwidth() == 2
        data = np.frombuffer(file.readframes(file.getnframes()), "<i2")
        return data.astype(np.float64) / 32767.0, file.getframerate()


def centroid(signal: np.ndarray, rate: int) -> float:
    """The spectrum's centre of mass in Hz: where the chord's weight lies."""
    power = np.abs(np.fft.rfft(signal)) ** 2
    return float((np.fft.rfftfreq(len(signal), 1 / rate) * power).sum() / power.sum())


def test_the_bed_lasts_exactly_its_sections_and_stays_quiet(tmp_path):
    sections = [("calm", 2.5), ("tense", 3.25), ("dark", 1.0)]
    written = write_bed(tmp_path / "bed.wav", sections, rate=8000)
    samples, rate = read_wav(tmp_path / "bed.wav")
    assert rate == 8000 and written == len(samples) == round(6.75 * 8000)
    assert np.abs(samples).max() <= LEVEL + 1e-3                  # about -20 dBFS at most
    middle = samples[8000:-16000]
    assert np.sqrt((middle ** 2).mean()) > LEVEL / 6                 # but present throughout
    assert np.abs(samples[:40]).max() < 0.005 and np.abs(samples[-40:]).max() < 0.005  # faded


def test_the_file_is_the_same_however_it_is_chunked(tmp_path, monkeypatch):
    sections = [("eerie", 1.3), ("eerie", 0.9), ("bright", 1.7)]
    monkeypatch.setattr(bed, "CHUNK", 1000)
    write_bed(tmp_path / "small.wav", sections, rate=8000)
    monkeypatch.setattr(bed, "CHUNK", 1 << 20)
    write_bed(tmp_path / "whole.wav", sections, rate=8000)
    assert (tmp_path / "small.wav").read_bytes() == (tmp_path / "whole.wav").read_bytes()


def test_a_mood_that_follows_itself_has_no_seam():
    loops = {"calm": pad_loop("calm", 8000)}
    bounds = [0, 8000, 16000, 24000]
    joined = render_chunk(loops, ["calm"] * 3, bounds, 4000, 20000, rate=8000)
    single = render_chunk(loops, ["calm"], [0, 24000], 4000, 20000, rate=8000)
    assert np.allclose(joined, single, atol=1e-5)


def test_each_mood_has_its_own_chord_and_loops_without_a_click():
    rate = 8000
    loops = {mood: pad_loop(mood, rate) for mood in CHORDS}
    for mood, loop in loops.items():
        assert loop.dtype == np.float32 and abs(float(np.abs(loop).max()) - 1.0) < 1e-3
        step = np.abs(np.diff(loop)).max()
        assert abs(float(loop[0] - loop[-1])) <= step * 1.01, mood   # the loop closes on itself
    assert centroid(loops["dark"], rate) < centroid(loops["calm"], rate) < centroid(
        loops["bright"], rate)
    assert not np.allclose(loops["calm"], loops["melancholy"])       # same root, other chord
    assert np.array_equal(pad_loop("no such mood", rate), loops["calm"])


def test_the_default_rate_is_cd_quality(tmp_path):
    write_bed(tmp_path / "bed.wav", [("mysterious", 0.5)])
    samples, rate = read_wav(tmp_path / "bed.wav")
    assert rate == RATE == 44100 and len(samples) == RATE // 2
