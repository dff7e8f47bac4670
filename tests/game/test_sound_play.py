"""Playing with sound on (the dummy audio device): what was heard in each scene, and U."""

from __future__ import annotations

import tomllib

import pygame
import pytest

import engine.session.sound as session_sound
from engine.audio.music import make_composer, track_key
from engine.audio.voices import lines
from tests.support.game_helpers import key, make_app, read_to_choices, settle, start

pytest.importorskip("espeakng_loader", reason="the voice reads with espeak-ng from its wheel")


@pytest.fixture
def short_music(monkeypatch):
    """Loops of 8 s, not 40: the same music, composed five times faster."""
    monkeypatch.setattr(session_sound, "MUSIC_SECONDS", 8.0)


def test_twenty_turns_with_sound_hear_each_scenes_mood_and_its_narration(config, tmp_path,
                                                                         short_music):
    app = make_app(config.with_changes(audio={"read_aloud": True}), tmp_path, sound=True,
                   painter=None)
    try:
        assert app.mixer.available                 # the dummy device plays in real time
        session = start(app)
        path = [session.current]
        for turn in range(20):
            read_to_choices(app)
            app.step([key(pygame.K_1 + turn % 2, text=str(turn % 2 + 1))], dt=0.01,
                     present=False)
            settle(app, 4)
            settle(app, 12, dt=0.5)        # the player reads for a while: a bar line passes
            path.append(session.current)
        world, composer = session.world, make_composer("procedural")
        heard_moods = []
        for node in path:
            version = session.scene(node).current
            place = session.graph.state_after(node).location
            record = session.heard[node]
            # the music the scene was given is its mood's track, as track_key says
            mood = session.sound.music_mood(node, version.mood)   # the player's tone may colour it
            assert record["mood"] == mood
            assert record["music"] == track_key(world, mood, place, composer, seconds=8.0,
                                                player=session.player().template_context())
            # its lines were read: the first one at least, before the player moved on
            played = [p for p in app.mixer.played if p.node == node and p.kind == "voice"]
            assert played, f"scene {node} was not read aloud"
            spec = world.spec
            voices = {c.name: c.voice for c in spec.characters if c.voice}
            first = lines(version.narration, spec.audio.narrator_voice, voices)[0]
            assert played[0].index == 0 and played[0].text == first.text
            heard_moods.append(mood)
        # the mixer started a track each time the mood changed, and only then
        music = [p for p in app.mixer.played if p.kind == "music"]
        changes = [m for i, m in enumerate(heard_moods) if i == 0 or m != heard_moods[i - 1]]
        assert [p.mood for p in music] == changes
        assert len(set(heard_moods)) >= 3          # the story went through several moods
    finally:
        app.close()


def test_u_mutes_and_unmutes_and_is_remembered(config, tmp_path):
    app = make_app(config, tmp_path, sound=True, painter=None)
    try:
        start(app)
        read_to_choices(app)
        app.step([key(pygame.K_u, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        assert app.config.audio.muted and app.mixer.music_level == 0.0
        assert any("Sound off" in t.message for t in app.toasts.items)
        saved = tomllib.loads((tmp_path / "user.toml").read_text())
        assert saved["audio"] == {"muted": True}
        app.step([key(pygame.K_u, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        assert not app.config.audio.muted and app.mixer.music_level > 0
    finally:
        app.close()


def test_the_sound_page_of_settings_sets_volumes_and_reading_aloud(config, tmp_path):
    from game.screens.settings import SettingsScreen
    app = make_app(config, tmp_path, sound=True, painter=None)
    try:
        start(app)
        read_to_choices(app)
        app.step([key(pygame.K_o, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        screen = app.top
        assert isinstance(screen, SettingsScreen)
        app.step([key(pygame.K_TAB)], dt=0.01, present=False)
        assert screen.rows[0] == "read_aloud"
        app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
        assert app.config.audio.read_aloud and app.session.sound.settings.read_aloud
        app.step([key(pygame.K_DOWN), key(pygame.K_LEFT), key(pygame.K_LEFT)], dt=0.01,
                 present=False)
        assert app.config.audio.music_volume == pytest.approx(0.4)
        assert app.mixer.settings.music_volume == pytest.approx(0.4)
        assert 0 < app.mixer.music_level <= 0.4            # (ducked while the voice reads)
        assert screen.value_text("music_volume") == "40%"
        saved = tomllib.loads((tmp_path / "user.toml").read_text())["audio"]
        assert saved == {"read_aloud": True, "music_volume": 0.4}
    finally:
        app.close()
