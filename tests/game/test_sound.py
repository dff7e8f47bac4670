"""The mixer: music cross-fades on a bar line, voice lines in order, ducking, mute, no device."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from engine.audio.clips import Clip
from engine.config import AudioSettings
from engine.events import EventKind, SessionEvent, SoundCue
from game.sound import DUCK, Mixer


def now(work, on_done, on_error):
    """A background that runs at once (the App's runs on a worker)."""
    try:
        result = work()
    except Exception as err:       # noqa: BLE001 - handed on, as the App's runner does
        on_error(err)
        return
    on_done(result)


@pytest.fixture
def files(tmp_path):
    def write(name: str, seconds: float, freq: float = 220.0):
        t = np.arange(int(seconds * 22050)) / 22050
        path = tmp_path / f"{name}.wav"
        path.write_bytes(Clip((0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32),
                              22050).wav_bytes())
        return str(path)
    return write


@pytest.fixture
def mixer():
    notes: list[str] = []
    mixer = Mixer(AudioSettings(read_aloud=True), now, notes.append)
    assert mixer.open(), notes
    mixer.notes = notes
    yield mixer
    mixer.close()


def play_until(mixer, done, limit_s: float = 10.0) -> None:
    """Let the (dummy) device play, a frame at a time, until done() or the limit."""
    for _ in range(int(limit_s / 0.02)):
        if done():
            return
        pygame.time.wait(20)
        mixer.update(0.02)
    raise AssertionError("the mixer never got there")


def music(node, path, key, mood, bar=0.0):
    return SessionEvent(EventKind.MUSIC, node, SoundCue(path, key, mood=mood, loop=True,
                                                        bar_seconds=bar))


def line(node, path, key, index, text="words"):
    return SessionEvent(EventKind.VOICE, node, SoundCue(path, key, text=text, index=index))


def test_a_new_mood_comes_in_on_the_bar_line_of_the_music_playing(mixer, files):
    mixer.on_session_events([music(1, files("calm", 2), "calm", "calm", bar=1.0)], 1)
    assert [(p.kind, p.mood) for p in mixer.played] == [("music", "calm")]
    mixer.update(0.3)
    mixer.on_session_events([music(2, files("tense", 2, 330), "tense", "tense", bar=0.5)], 2)
    assert len(mixer.played) == 1              # waits for the bar line, 0.7 s away
    mixer.update(0.5)
    assert len(mixer.played) == 1
    mixer.update(0.25)
    assert [(p.node, p.mood) for p in mixer.played] == [(1, "calm"), (2, "tense")]
    mixer.on_session_events([music(3, files("tense", 2, 330), "tense", "tense")], 3)
    mixer.update(1.0)
    assert len(mixer.played) == 2              # the same music goes on, not started again


def test_music_for_a_scene_the_player_left_is_not_played(mixer, files):
    mixer.on_session_events([music(1, files("calm", 1), "calm", "calm")], 2)
    mixer.update(0.1)
    assert mixer.played == []


def test_voice_lines_play_in_order_and_the_music_ducks_under_them(mixer, files):
    mixer.on_session_events([music(1, files("calm", 3), "calm", "calm")], 1)
    level = mixer.music_level
    assert level == pytest.approx(AudioSettings().music_volume)
    mixer.on_session_events([line(1, files("b", 0.4), "b", 1, "second"),
                             line(1, files("c", 0.4), "c", 2, "third")], 1)
    assert [p.kind for p in mixer.played] == ["music"]       # line 0 is not ready yet
    mixer.on_session_events([line(1, files("a", 0.4), "a", 0, "first")], 1)
    assert [p.text for p in mixer.played if p.kind == "voice"] == ["first"]
    assert mixer.speaking
    for _ in range(20):
        mixer.update(0.05)
    assert mixer.music_level == pytest.approx(level * DUCK)
    play_until(mixer, lambda: len(mixer.played) == 3)        # the dummy device plays in real time
    assert [p.text for p in mixer.played if p.kind == "voice"] == ["first", "second"]
    play_until(mixer, lambda: len(mixer.played) == 4)
    play_until(mixer, lambda: not mixer.speaking)
    for _ in range(20):
        mixer.update(0.05)
    assert [p.index for p in mixer.played if p.kind == "voice"] == [0, 1, 2]
    assert not mixer.speaking
    assert mixer.music_level == pytest.approx(level)          # back up after the voice


def test_moving_on_stops_the_voice_of_the_scene_left(mixer, files):
    mixer.on_session_events([line(1, files("a", 2), "a", 0)], 1)
    assert mixer.speaking
    mixer.on_session_events([line(1, files("b", 1), "b", 1)], 2)   # the player is at 2 now
    mixer.update(0.05)
    assert not mixer.speaking
    assert [p.key for p in mixer.played] == ["a"]


def test_mute_silences_everything_and_reading_aloud_can_be_turned_off(mixer, files):
    mixer.on_session_events([music(1, files("calm", 1), "calm", "calm")], 1)
    mixer.set_settings(AudioSettings(read_aloud=True, muted=True))
    assert mixer.music_level == 0.0
    mixer.set_settings(AudioSettings(read_aloud=False))
    mixer.on_session_events([line(1, files("a", 1), "a", 0)], 1)
    assert not mixer.speaking and [p.kind for p in mixer.played] == ["music"]


def test_no_audio_device_is_a_note_and_the_game_plays_silently(monkeypatch, files):
    def refuse(*args, **kwargs):
        raise pygame.error("Audio target 'pulse' not available")
    monkeypatch.setattr(pygame.mixer, "get_init", lambda: None)
    monkeypatch.setattr(pygame.mixer, "init", refuse)
    notes: list[str] = []
    mixer = Mixer(AudioSettings(read_aloud=True), now, notes.append)
    assert not mixer.open()
    assert len(notes) == 1 and "No audio device" in notes[0] and "[audio]" in notes[0]
    mixer.on_session_events([music(1, files("calm", 1), "calm", "calm"),
                             line(1, files("a", 1), "a", 0)], 1)
    mixer.update(0.1)
    assert mixer.played == [] and not mixer.speaking


def test_a_scene_told_again_is_read_again_from_its_first_line(mixer, files):
    mixer.on_session_events([line(1, files("a", 2), "a", 0, "old first")], 1)
    assert mixer.speaking
    mixer.on_session_events([line(1, files("b", 1), "b", 0, "new first")], 1)   # regenerated
    assert [p.text for p in mixer.played] == ["old first", "new first"]


def test_effects_play_on_their_own_channel_at_their_own_volume(mixer):
    mixer.effect("choose")
    mixer.effect("rewind")
    assert [(p.kind, p.key) for p in mixer.played] == [("effect", "choose"), ("effect", "rewind")]
    assert pygame.mixer.Channel(3).get_busy()
    assert pygame.mixer.Channel(3).get_volume() == pytest.approx(0.8, abs=0.01)
    mixer.set_settings(AudioSettings(muted=True))
    assert pygame.mixer.Channel(3).get_volume() == 0.0
