"""The procedural score: moods told apart by what is heard, seamless loops, seeds, world tracks."""

from __future__ import annotations

import shutil
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from engine.audio.clips import Clip, ClipCache
from engine.audio.music import MusicRequest, make_composer, music_for, track_key
from engine.audio.music.moods import for_world
from engine.errors import AudioError
from engine.story.schema import MOODS
from engine.worlds.loading import BUILTIN_WORLDS, load_world
from engine.worlds.validate import validate_world

SECONDS = 12.0   # short loops keep the file fast; the bench renders the full 30 s


@pytest.fixture(scope="module")
def clips() -> dict[str, Clip]:
    composer = make_composer("procedural")
    return {mood: composer.compose(MusicRequest("lantern_coast", mood, seconds=SECONDS))
            for mood in MOODS}


def mono(clip: Clip) -> np.ndarray:
    return clip.samples.mean(axis=1).astype(np.float64)


def centroid(clip: Clip) -> float:
    """The spectrum's centre of mass in Hz: how bright the music is."""
    power = np.abs(np.fft.rfft(mono(clip))) ** 2
    return float((np.fft.rfftfreq(len(clip.samples), 1 / clip.rate) * power).sum() / power.sum())


def onset_rate(clip: Clip) -> float:
    """Note onsets a second: peaks of spectral flux over 40 log-spaced bands (as librosa
    does), where the level rises by more than 1 dB across the bands above its neighbourhood."""
    signal, n, hop = mono(clip), 2048, 512
    frames = np.lib.stride_tricks.sliding_window_view(signal, n)[::hop]
    power = np.abs(np.fft.rfft(frames * np.hanning(n), axis=1)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / clip.rate)
    edges = np.geomspace(60, 11000, 41)
    band = np.searchsorted(edges, freqs) - 1
    bands = np.stack([power[:, band == b].sum(axis=1) for b in range(40)], axis=1)
    db = 10 * np.log10(np.maximum(bands, 1e-12))
    db = np.maximum(db, db.max() - 80)
    env = np.maximum(np.diff(db, axis=0), 0).mean(axis=1)    # dB of rise, over the bands
    w = int(0.1 * clip.rate / hop)
    window = np.lib.stride_tricks.sliding_window_view(np.pad(env, w, mode="wrap"), 2 * w + 1)
    peaks = (env >= window.max(axis=1)) & (env > window.mean(axis=1) + 1.0)
    return peaks.sum() / clip.seconds


def thirds(clip: Clip, root: int) -> tuple[float, float]:
    """Energy at the major and the minor third above the tonic's pitch class (55 Hz..2 kHz)."""
    power = np.abs(np.fft.rfft(mono(clip))) ** 2
    freqs = np.fft.rfftfreq(len(clip.samples), 1 / clip.rate)
    keep = (freqs > 55) & (freqs < 2000)
    pitch_class = (np.round(12 * np.log2(freqs[keep] / 440.0)).astype(int) + 69) % 12
    chroma = np.bincount(pitch_class, weights=power[keep], minlength=12)
    return chroma[(root + 4) % 12], chroma[(root + 3) % 12]


def test_moods_differ_in_pace_brightness_and_mode(clips):
    rate = {mood: onset_rate(clip) for mood, clip in clips.items()}
    bright = {mood: centroid(clip) for mood, clip in clips.items()}
    assert rate["tense"] > 1.5 * max(rate["calm"], rate["melancholy"], rate["dark"])
    assert min(rate["bright"], rate["triumphant"]) > max(rate["dark"], rate["eerie"])
    assert bright["bright"] > 2 * bright["dark"] and bright["eerie"] > 2 * bright["dark"]
    for mood in ("calm", "bright", "triumphant"):
        major, minor = thirds(clips[mood], for_world(mood, "lantern_coast").root)
        assert major > 1.5 * minor, mood
    for mood in ("dark", "melancholy", "tense", "mysterious"):
        major, minor = thirds(clips[mood], for_world(mood, "lantern_coast").root)
        assert minor > 1.5 * major, mood
    features = {m: (rate[m], np.log(bright[m]), *thirds(clips[m], for_world(m, "x").root))
                for m in MOODS}
    assert len({tuple(np.round(f[:2], 1)) for f in features.values()}) == len(MOODS)


def test_levels_are_sensible_and_nothing_clips(clips):
    for mood, clip in clips.items():
        assert clip.rate == 44100 and clip.channels == 2
        assert 4.0 <= clip.seconds <= 60.0
        rms_db = 20 * np.log10(np.sqrt(np.mean(clip.samples.astype(np.float64) ** 2)))
        assert -21.0 < rms_db < -15.5, (mood, rms_db)
        assert np.abs(clip.samples).max() < 0.9, mood
        assert abs(float(clip.samples.mean())) < 1e-3, mood     # no DC offset
        left, right = clip.samples.T
        assert np.corrcoef(left, right)[0, 1] < 0.995, mood    # really stereo


def test_the_loop_joins_without_a_click(clips):
    for mood, clip in clips.items():
        samples = clip.samples.astype(np.float64)
        jump = np.abs(samples[0] - samples[-1])                 # last sample into the first
        near = np.concatenate([samples[-512:], samples[:512]])
        steps = np.abs(np.diff(near, axis=0))
        steps[511] = 0.0                                        # (the seam itself)
        assert np.all(jump <= 1.5 * steps.max(axis=0)), mood    # no bigger than its neighbours


def test_the_seam_is_music_like_any_other_moment():
    """The score rendered half a loop later is the same sound rotated: the seam (now in the
    middle) sounds exactly as a continuous performance would."""
    from dataclasses import replace

    from engine.audio.music.procedural import render
    composer = make_composer("procedural")
    request = MusicRequest("lantern_coast", "tense", seconds=6.0)
    score, shifted = composer.score(request), composer.score(request)
    half = score.length // 2
    shifted.events = [replace(e, start=(e.start + half) % score.length) for e in score.events]
    assert np.allclose(render(shifted), np.roll(render(score), half, axis=0), atol=2e-4)


def test_a_world_sounds_like_itself(clips):
    composer = make_composer("procedural")
    again = composer.compose(MusicRequest("lantern_coast", "calm", seconds=SECONDS))
    other = composer.compose(MusicRequest("hollow_orbit", "calm", seconds=SECONDS))
    assert np.array_equal(again.samples, clips["calm"].samples)
    assert len(other.samples) != len(again.samples) or \
        not np.allclose(other.samples, again.samples, atol=1e-3)
    request = MusicRequest("lantern_coast", "calm", seconds=SECONDS)
    assert composer.cache_key(request) == composer.cache_key(
        MusicRequest("lantern_coast", "calm", place="harbour", seconds=SECONDS))
    assert composer.cache_key(request) != composer.cache_key(
        MusicRequest("hollow_orbit", "calm", seconds=SECONDS))


def test_world_mood_settings_change_the_score(tmp_path):
    root = shutil.copytree(BUILTIN_WORLDS / "lantern_coast", tmp_path / "coast")
    text = (root / "world.toml").read_text(encoding="utf-8")
    (root / "world.toml").write_text(text + '\n[audio.moods.calm]\nroot = "F"\nmode = "minor"\n'
                                     'tempo = 150\ninstruments = ["bell", "drums"]\n'
                                     'density = 0.9\n', encoding="utf-8")
    world = load_world(root)
    composer = make_composer("procedural")
    from engine.audio.music.tracks import music_request
    request, _ = music_request(world, "calm", seconds=SECONDS)
    music = request.settings
    assert (music.root % 12, music.mode, music.tempo, music.instruments) == \
        (5, "minor", 150.0, ("bell", "drums"))
    score = composer.score(request)
    assert {e.voice for e in score.events} <= {"bell", "kick", "snare", "hat", "tom"}
    clip = composer.compose(request)
    major, minor = thirds(clip, music.root)
    assert minor > major


def test_specs_and_none(tmp_path):
    assert make_composer("none") is None
    with pytest.raises(AudioError, match="Unknown music"):
        make_composer("jukebox")
    with pytest.raises(AudioError, match="names no model"):
        make_composer("musicgen:")
    cache = ClipCache(tmp_path / "cache")
    world = load_world("lantern_coast")
    assert music_for(world, "calm", composer=None, cache=cache) is None
    assert track_key(world, "calm", composer=None) is None


def write_wav(path: Path, seconds: float, rate: int = 8000) -> None:
    t = np.arange(int(seconds * rate)) / rate
    Clip((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)
    path.write_bytes(Clip((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate).wav_bytes())


def ogg_page(serial: int, sequence: int, granule: int, body: bytes, kind: int = 0) -> bytes:
    lacing = [255] * (len(body) // 255) + [len(body) % 255]
    return (b"OggS" + bytes([0, kind]) + struct.pack("<qIII", granule, serial, sequence, 0)
            + bytes([len(lacing)]) + bytes(lacing) + body)


def write_ogg(path: Path, seconds: float, rate: int = 44100) -> None:
    """The page structure of an Ogg Vorbis file (identification header, a last granule)."""
    ident = b"\x01vorbis" + struct.pack("<IBI", 0, 2, rate) + bytes(13)
    path.write_bytes(ogg_page(7, 0, 0, ident, 2) + ogg_page(7, 1, 0, b"\x03vorbis" + bytes(40))
                     + ogg_page(7, 2, int(seconds * rate), bytes(300), 4))


@pytest.fixture
def coast(tmp_path) -> Path:
    return shutil.copytree(BUILTIN_WORLDS / "lantern_coast", tmp_path / "coast")


def test_a_world_track_wins_and_a_broken_one_falls_back(coast, tmp_path):
    (coast / "music").mkdir()
    write_wav(coast / "music" / "calm.wav", 6.0)
    write_ogg(coast / "music" / "tense.ogg", 42.0)
    (coast / "music" / "dark.ogg").write_bytes(b"OggS" + bytes(40))       # broken
    world, cache = load_world(coast), ClipCache(tmp_path / "cache")
    composer = make_composer("procedural")
    calm = music_for(world, "calm", composer=composer, cache=cache, seconds=SECONDS)
    assert calm.source == "world" and calm.path.name == "calm.wav"
    assert calm.key == track_key(world, "calm", composer=composer) == "world:coast/music/calm.wav"
    assert music_for(world, "tense", composer=None, cache=cache).path.name == "tense.ogg"
    dark = music_for(world, "dark", composer=composer, cache=cache, seconds=SECONDS)
    assert dark.source == "composed" and "music/dark.ogg" in dark.problem
    assert dark.key == track_key(world, "dark", composer=composer, seconds=SECONDS)
    assert music_for(world, "dark", composer=composer, cache=cache, seconds=SECONDS).source == \
        "cache"


def test_validate_finds_bad_audio_files(coast):
    folder = coast / "music"
    folder.mkdir()
    write_wav(folder / "calm.wav", 6.0)                    # fine
    write_ogg(folder / "tense.ogg", 42.0)                  # fine
    write_wav(folder / "dark.wav", 1.0)                    # too short
    write_ogg(folder / "eerie.ogg", 900.0)                 # too long
    (folder / "bright.ogg").write_bytes(b"not an ogg at all, just text")
    good = (folder / "calm.wav").read_bytes()
    (folder / "melancholy.wav").write_bytes(good[: len(good) // 2])   # cut short
    (folder / "triumphant.ogg").write_bytes(b"\0" * (21 * 1024 * 1024))   # too big
    write_wav(folder / "happy.wav", 6.0)                   # not a mood
    report = validate_world(coast)
    errors = {p.file: p.message for p in report.errors}
    assert "lasts 1.0 s" in errors["music/dark.wav"]
    assert "lasts 900.0 s" in errors["music/eerie.ogg"]
    assert "Ogg" in errors["music/bright.ogg"]
    assert "cut short" in errors["music/melancholy.wav"]
    assert "byte limit" in errors["music/triumphant.ogg"]
    assert "music/calm.wav" not in errors and "music/tense.ogg" not in errors
    assert any(p.file == "music/happy.wav" for p in report.warnings)
    assert not any(p.file == "music" for p in report.warnings)   # music/ is part of the format


def test_shipped_worlds_still_validate():
    for world_id in ("lantern_coast", "hollow_orbit"):
        assert validate_world(world_id).ok, world_id
    assert load_world("lantern_coast").spec.audio.music_style


def test_bar_seconds_is_the_rendered_bar():
    composer = make_composer("procedural")
    request = MusicRequest("lantern_coast", "melancholy", seconds=6.0)
    score = composer.score(request)
    assert composer.bar_seconds(request) == score.bar / score.rate
    assert score.length % score.bar == 0 and score.music.beats_per_bar == 3
