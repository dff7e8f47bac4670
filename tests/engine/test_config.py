"""Configuration: defaults < user file < flags, with errors that name the file and key."""

import pytest

from engine.config import load_config, save_user_settings
from engine.errors import ConfigError


def test_defaults_load_and_flags_override(tmp_path):
    config = load_config(use_user_file=False)
    assert config.game.narrator == "storylets" and config.game.painter == "procedural"
    changed = config.with_changes(game={"seed": 12, "world": "hollow_orbit"})
    assert changed.game.seed == 12 and changed.game.world == "hollow_orbit"
    assert config.game.seed == 0


def test_user_file_overrides_defaults(tmp_path):
    user = tmp_path / "config.toml"
    user.write_text('[display]\ntext_speed = 0\n[game]\nworld = "hollow_orbit"\n')
    config = load_config(user_file=user)
    assert config.display.text_speed == 0 and config.game.world == "hollow_orbit"
    assert config.display.width == 1280


def test_unknown_keys_and_bad_values_name_file_and_key(tmp_path):
    user = tmp_path / "config.toml"
    user.write_text('[display]\ntext_sped = 3\n')
    with pytest.raises(ConfigError, match=r"config.toml: display.text_sped: unknown key"):
        load_config(user_file=user)
    user.write_text('[display]\nfont_size = "huge"\n')
    with pytest.raises(ConfigError, match=r"display.font_size"):
        load_config(user_file=user)
    user.write_text('[display\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(user_file=user)


def test_settings_are_written_back_and_kept(tmp_path):
    user = tmp_path / "dreamreel" / "config.toml"
    save_user_settings({"display": {"font_size": 30, "high_contrast": True}}, user)
    save_user_settings({"game": {"author_note": 'Say "aye"'}}, user)
    config = load_config(user_file=user)
    assert config.display.font_size == 30 and config.display.high_contrast
    assert config.game.author_note == 'Say "aye"'
    with pytest.raises(ConfigError):
        save_user_settings({"display": {"font_size": 1000}}, user)
    assert load_config(user_file=user).display.font_size == 30


def test_cli_reports_config_errors_without_a_traceback(tmp_path, capsys):
    from game.cli.main import main
    bad = tmp_path / "bad.toml"
    bad.write_text("[game]\nnarator = 'x'\n")
    assert main(["--config", str(bad), "saves", "list"]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "game.narator" in err and "Traceback" not in err


def test_a_config_file_named_on_the_command_line_must_exist(tmp_path):
    """Finding 8: a missing --config FILE was silently ignored."""
    missing = tmp_path / "my-settings.toml"
    with pytest.raises(ConfigError, match="my-settings.toml: no such config file"):
        load_config(user_file=missing)
    missing.write_text('[game]\nseed = 3\n')
    assert load_config(user_file=missing).game.seed == 3


def test_seeds_past_64_bits_and_huge_config_files_are_refused(tmp_path):
    """Finding 7 (the config's side): a seed no save can hold is refused with the key named."""
    user = tmp_path / "config.toml"
    user.write_text(f"[game]\nseed = {2**63}\n")
    with pytest.raises(ConfigError, match="game.seed"):
        load_config(user_file=user)
    user.write_text("# " + "x" * (2 << 20) + "\n")
    with pytest.raises(ConfigError, match="not a Dreamreel config file"):
        load_config(user_file=user)
