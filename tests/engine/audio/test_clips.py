"""Sound clips and their disk cache: WAV round trips, keys, damaged files, the size limit."""

from __future__ import annotations

import os

import numpy as np
import pytest

from engine.audio.clips import Clip, ClipCache, clip_key
from engine.errors import AudioError


def tone(seconds: float = 0.25, rate: int = 22050, stereo: bool = False) -> Clip:
    t = np.arange(int(seconds * rate)) / rate
    wave_ = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return Clip(np.stack([wave_, -wave_], axis=1) if stereo else wave_, rate)


@pytest.mark.parametrize("stereo", [False, True])
def test_a_clip_survives_a_wav_round_trip_to_16_bit_precision(stereo):
    clip = tone(stereo=stereo)
    back = Clip.from_wav(clip.wav_bytes())
    assert (back.rate, back.channels, back.samples.shape) == (clip.rate, clip.channels,
                                                              clip.samples.shape)
    assert np.abs(back.samples - clip.samples).max() < 1.5 / 32768
    assert back.seconds == pytest.approx(0.25, abs=1 / clip.rate)


def test_samples_beyond_full_scale_are_clipped_not_wrapped():
    back = Clip.from_wav(Clip(np.array([1.7, -2.0, 0.5], np.float32), 8000).wav_bytes())
    assert back.samples[0] > 0.99 and back.samples[1] < -0.99


def test_keys_differ_by_everything_that_changes_the_sound():
    base = clip_key("voice", "espeak", "", "Hello there.", 0, voice="en")
    assert base == clip_key("voice", "espeak", "", "Hello there.", 0, voice="en")
    others = {clip_key("music", "espeak", "", "Hello there.", 0, voice="en"),
              clip_key("voice", "transformers", "", "Hello there.", 0, voice="en"),
              clip_key("voice", "espeak", "m", "Hello there.", 0, voice="en"),
              clip_key("voice", "espeak", "", "Hello there!", 0, voice="en"),
              clip_key("voice", "espeak", "", "Hello there.", 1, voice="en"),
              clip_key("voice", "espeak", "", "Hello there.", 0, voice="de")}
    assert base not in others and len(others) == 6


def test_the_cache_gives_back_what_was_put_and_misses_otherwise(tmp_path):
    cache, key = ClipCache(tmp_path), clip_key("music", "procedural", "", "calm", 3)
    assert cache.get(key) is None and key not in cache
    path = cache.put(key, tone())
    assert path == cache.path(key) and path.parent.name == key[:2] and key in cache
    assert np.allclose(cache.get(key).samples, tone().samples, atol=1e-4)
    assert cache.get_path(key) == path
    with pytest.raises(ValueError):
        cache.path("../../etc/passwd")


def test_a_damaged_clip_is_a_miss_and_is_removed(tmp_path):
    cache, key = ClipCache(tmp_path), clip_key("voice", "espeak", "", "x")
    path = cache.put(key, tone())
    path.write_bytes(b"RIFF\x00\x00garbage")
    assert cache.get(key) is None
    assert not path.exists()


def test_the_least_recently_used_clips_go_when_the_cache_is_full(tmp_path):
    clip = tone(seconds=0.5)                                   # about 22 kB each
    size = len(clip.wav_bytes())
    cache = ClipCache(tmp_path, max_bytes=int(size * 2.5))
    keys = [clip_key("music", "procedural", "", str(n)) for n in range(3)]
    cache.put(keys[0], clip)
    cache.put(keys[1], clip)
    old = cache.path(keys[1]).stat().st_mtime - 100
    os.utime(cache.path(keys[1]), (old, old))                  # keys[1] is the stalest now
    os.utime(cache.path(keys[0]), (old + 50, old + 50))
    cache.put(keys[2], clip)
    assert [key in cache for key in keys] == [True, False, True]


def test_a_full_disk_is_an_audio_error_that_says_what_to_do(tmp_path, monkeypatch):
    import engine.audio.clips as clips

    def refuse(path, data, durable=True):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(clips, "write_atomic", refuse)
    with pytest.raises(AudioError, match="No space left on device.*none"):
        ClipCache(tmp_path).put(clip_key("voice", "espeak", "", "x"), tone())


def test_a_file_asked_for_by_path_is_checked_by_its_header(tmp_path):
    cache, key = ClipCache(tmp_path), clip_key("music", "procedural", "", "cut")
    path = cache.put(key, tone(seconds=1.0))
    assert cache.get_path(key) == path
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])   # cut short
    assert cache.get_path(key) is None and not path.exists()
