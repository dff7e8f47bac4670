"""Settings changed in a run with its own --saves-dir (or --config) are written there, never to
the player's usual config file, and the next run with that folder reads them back."""

from __future__ import annotations

from tests.support.game_helpers import make_app

from game.cli.main import build_parser, make_config, settings_file


def test_a_saves_dir_run_keeps_its_settings_to_itself(tmp_path, monkeypatch):
    usual = tmp_path / "home" / "config.toml"
    monkeypatch.setenv("DREAMREEL_CONFIG", str(usual))
    saves = tmp_path / "saves"
    args = build_parser().parse_args(["play", "--saves-dir", str(saves), "--painter", "none"])
    assert settings_file(args) == saves / "settings.toml"
    app = make_app(make_config(args), tmp_path)
    app.settings_file = settings_file(args)
    try:
        app.set_display(font_size=30)
    finally:
        app.close()
    assert not usual.exists()
    assert "font_size = 30" in (saves / "settings.toml").read_text()
    again = make_config(build_parser().parse_args(["play", "--saves-dir", str(saves)]))
    assert again.display.font_size == 30
    plain = make_config(build_parser().parse_args(["play", "--saves-dir", str(tmp_path / "x")]))
    assert plain.display.font_size != 30


def test_a_config_run_writes_its_config_file(tmp_path, monkeypatch):
    usual = tmp_path / "home" / "config.toml"
    monkeypatch.setenv("DREAMREEL_CONFIG", str(usual))
    mine = tmp_path / "mine.toml"
    mine.write_text("[game]\npainter = \"none\"\n")
    args = build_parser().parse_args(["--config", str(mine), "play", "--saves-dir",
                                      str(tmp_path / "saves")])
    assert settings_file(args) == mine
    app = make_app(make_config(args), tmp_path)
    app.settings_file = settings_file(args)
    try:
        app.set_display(font_size=28)
    finally:
        app.close()
    assert not usual.exists() and not (tmp_path / "saves" / "settings.toml").exists()
    text = mine.read_text()
    assert "font_size = 28" in text and 'painter = "none"' in text


def test_sound_flags_set_the_audio_settings_for_the_run(tmp_path):
    args = build_parser().parse_args(["play", "--saves-dir", str(tmp_path), "--music", "none",
                                      "--voice", "espeak:en-gb", "--read-aloud"])
    audio = make_config(args).audio
    assert (audio.music, audio.voice, audio.read_aloud) == ("none", "espeak:en-gb", True)
    plain = make_config(build_parser().parse_args(["play", "--saves-dir", str(tmp_path)])).audio
    assert (plain.music, plain.read_aloud) == ("procedural", False)


def test_a_film_can_be_made_without_music_or_voice(tmp_path):
    args = build_parser().parse_args(["export", "film", "--saves-dir", str(tmp_path),
                                      "--music", "none", "--voice", "none"])
    audio = make_config(args).audio
    assert (audio.music, audio.voice) == ("none", "none")
