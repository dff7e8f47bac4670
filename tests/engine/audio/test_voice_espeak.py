"""The espeak voice (espeak-ng from its wheel), the spec strings, and spoken lines in the clip cache."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine.audio.clips import Clip, ClipCache
from engine.audio.voices import (AudioError, Line, line_keys, lines, make_voice, speak_cached,
                                 voice_key)
from engine.audio.voices.espeak import EspeakVoice, espeak_voices

SHORT = "The light is out."
LONG = ("The light is out, and the fog comes in over the harbour wall like a slow grey tide, "
        "and somewhere far out a bell tolls once.")


@pytest.fixture(scope="module")
def espeak():
    voice = EspeakVoice()
    try:
        voice.load()
    except AudioError as err:
        pytest.skip(f"espeak-ng does not load here: {err}")
    return voice


def pitch(clip: Clip) -> float:
    """Median fundamental frequency in Hz of the loud 40 ms frames (autocorrelation peak)."""
    samples, rate = clip.samples.astype(np.float64), clip.rate
    size, level = int(0.04 * rate), np.sqrt((clip.samples.astype(np.float64) ** 2).mean())
    found = []
    for start in range(0, len(samples) - size, size):
        frame = samples[start:start + size] - samples[start:start + size].mean()
        if np.sqrt((frame ** 2).mean()) < level:
            continue
        correlation = np.correlate(frame, frame, "full")[size - 1:]
        low, high = rate // 450, rate // 60
        found.append(rate / (low + int(np.argmax(correlation[low:high]))))
    return float(np.median(found))


def test_espeak_speaks_audible_speech_of_a_plausible_length(espeak):
    short, long = espeak.speak(SHORT), espeak.speak(LONG)
    assert short.rate == 22050 and short.channels == 1 and short.samples.dtype == np.float32
    assert 0.5 < short.seconds < 3.0              # four words: about a second
    assert long.seconds > 3 * short.seconds        # five times the words
    assert np.sqrt((short.samples ** 2).mean()) > 0.02 and np.abs(short.samples).max() <= 1.0


def same_speech(one: Clip, other: Clip) -> bool:
    """Equal but for espeak-ng's oscillator phase, which carries over from call to call."""
    def loudness(clip: Clip) -> float:
        return float(np.sqrt((clip.samples.astype(np.float64) ** 2).mean()))

    return one.rate == other.rate and abs(one.seconds - other.seconds) < 0.01 and \
        abs(loudness(one) - loudness(other)) < 0.05 * loudness(one)


def test_the_same_text_gives_the_same_speech_and_speed_shortens_it(espeak):
    first, again = espeak.speak(SHORT), espeak.speak(SHORT)
    assert same_speech(first, again) and not same_speech(first, espeak.speak(SHORT + " Yes."))
    fast = make_voice("espeak", speed=2.0).speak(LONG)
    assert fast.seconds < 0.7 * espeak.speak(LONG).seconds


def test_variants_and_languages_sound_different(espeak):
    text = "The lighthouse has been dark for four weeks now."
    male, female = espeak.speak(text), espeak.speak(text, "en+f3")
    assert pitch(female) > 1.5 * pitch(male)            # about 210 Hz against 100 Hz
    german = espeak.speak(text, "de")
    assert abs(german.seconds - male.seconds) > 0.05 or not np.array_equal(
        german.samples[:2000], male.samples[:2000])
    assert same_speech(make_voice("espeak:en+f3").speak(text), female)


def test_many_languages_are_installed_and_an_unknown_voice_is_refused(espeak):
    installed = espeak_voices()
    assert {"en-gb", "en-us", "de", "fr-fr", "es"} <= set(installed) and len(installed) > 50
    with pytest.raises(AudioError, match='no voice "xx-nowhere"'):
        espeak.speak(SHORT, "xx-nowhere")


def test_empty_text_is_an_empty_clip(espeak):
    assert espeak.speak("   ").seconds == 0


def test_threads_speaking_at_once_get_their_own_clips(espeak):
    texts = [SHORT, LONG, "Three.", "Four ships since spring."]
    expected = [espeak.speak(text) for text in texts]
    results: dict[int, Clip] = {}

    def speak(index: int) -> None:
        results[index] = espeak.speak(texts[index])

    workers = [threading.Thread(target=speak, args=(i,)) for i in range(len(texts)) for _ in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert all(same_speech(results[i], expected[i]) for i in range(len(texts)))


def test_a_spoken_line_is_cached_and_the_second_call_does_not_speak(espeak, tmp_path,
                                                                    monkeypatch):
    cache = ClipCache(tmp_path / "clips")
    path = speak_cached(espeak, cache, SHORT, "en+f3")
    clip = Clip.from_wav(path)
    assert clip.seconds > 0.5

    def refuse(*_args, **_kwargs):
        raise AssertionError("spoke again instead of using the cache")

    monkeypatch.setattr(espeak, "speak", refuse)
    assert speak_cached(espeak, cache, SHORT, "en+f3") == path
    assert speak_cached(espeak, cache, SHORT, "en+f3").read_bytes() == path.read_bytes()


def test_a_key_tells_apart_what_changes_the_sound_and_nothing_else():
    voice = EspeakVoice()
    key = voice_key(voice, SHORT)
    assert key == voice_key(voice, SHORT, "en")                       # "" is the default voice
    assert len({key, voice_key(voice, SHORT, "en+f3"), voice_key(voice, LONG),
                voice_key(EspeakVoice(speed=1.5), SHORT)}) == 4
    assert voice_key(voice, SHORT, "en+f3") == voice_key(EspeakVoice("de"), SHORT, "en+f3")


def test_a_scenes_audio_is_its_lines_keys_and_replays_from_the_cache(espeak, tmp_path):
    cache = ClipCache(tmp_path / "clips")
    text = 'Ivy hauls the boat up. "Five ships," Ivy says. "Not a spar."'
    scene = lines(text, "en", {"Ivy Marsh": "en+f3"})
    assert [line.voice for line in scene] == ["en", "en+f3", "en", "en+f3"]
    keys = line_keys(espeak, scene)
    assert all(key not in cache for key in keys)
    for line in scene:
        speak_cached(espeak, cache, line.text, line.voice)
    assert all(cache.get_path(key) is not None for key in keys)      # rollback: all there
    assert keys == line_keys(espeak, lines(text, "en", {"Ivy Marsh": "en+f3"}))
    assert line_keys(espeak, [Line("Not a spar.", "en")]) != [keys[-1]]


def test_the_none_voice_speaks_nothing_and_says_how_to_turn_a_voice_on(tmp_path):
    voice = make_voice("none")
    assert voice.id == "none" and voice.speaks is False
    with pytest.raises(AudioError, match='voice = "espeak"'):
        voice.speak(SHORT)
    with pytest.raises(AudioError, match="voice is off"):
        speak_cached(voice, ClipCache(tmp_path), SHORT)


@pytest.mark.parametrize("spec, message", [
    ("espeakk", 'Unknown voice "espeakk"'),
    ("transformers:", "names no model"),
    ("transformers:  ", "names no model"),
    ("none:x", 'Unknown voice "none:x"'),
])
def test_a_bad_spec_is_refused_with_the_forms_that_work(spec, message):
    with pytest.raises(AudioError, match=message):
        make_voice(spec)


def test_a_wrong_option_or_speed_is_an_audio_error():
    with pytest.raises(AudioError, match="option"):
        make_voice("espeak", pitch=3)
    with pytest.raises(AudioError, match="above 0"):
        make_voice("espeak", speed=0)


def test_espeak_specs_set_the_default_voice():
    assert make_voice("espeak").default_voice == "en"
    assert make_voice("espeak:de").default_voice == "de"
    assert make_voice("ESPEAK").id == "espeak" and make_voice("espeak").speaks
