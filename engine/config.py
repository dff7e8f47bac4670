"""Configuration: shipped defaults, the user's config file, then command-line flags.

`assets/config.toml` holds the defaults (commented); a user file (DREAMREEL_CONFIG, or
$XDG_CONFIG_HOME/dreamreel/config.toml) overrides them; flags override both. Unknown keys and bad
values are reported with the file and key; a config file named on the command line (--config) must
exist, and no config file is read past MAX_CONFIG_BYTES. Settings changed in the game are written back to the
user file atomically. This module must not import pygame or any ML library.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.atomic import write_atomic
from engine.errors import ConfigError
from engine.paths import ASSETS, PROJECT_ROOT
from engine.story.seeds import SEED_MAX
from engine.tomlwrite import dump_toml

DEFAULTS_FILE = ASSETS / "config.toml"
MAX_CONFIG_BYTES = 1 << 20     # a config file is a few hundred bytes; larger ones are refused


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GameSettings(_Section):
    world: str = "lantern_coast"       # world id or folder
    narrator: str = "storylets"        # storylets | transformers:<id or path> | openai:<model>@<url>
    painter: str = "procedural"        # procedural | none | diffusers:<id> | openai-images:<m>@<url>
    seed: int = Field(default=0, ge=0, le=SEED_MAX)  # 0: a fresh seed for every new game
    saves_dir: str = ""                # "" : the project's saves/ folder
    worlds_dir: str = ""               # "" : <saves_dir>/worlds for installed worlds
    author_note: str = Field(default="", max_length=500)  # standing instruction to LLM narrators
    player_model: bool = True          # read how the player plays; steer prompts and storylets


class DisplaySettings(_Section):
    width: int = Field(default=1280, ge=320, le=7680)
    height: int = Field(default=720, ge=240, le=4320)
    fullscreen: bool = False
    text_speed: int = Field(default=60, ge=0, le=1000)   # characters per second; 0 = instant
    font_size: int = Field(default=22, ge=10, le=64)     # at 720p; scaled with the window
    high_contrast: bool = False
    auto_advance: bool = False
    auto_advance_speed: float = Field(default=1.0, ge=0.25, le=4.0)   # pace of auto-advance: 2 = twice as fast


class ImageSettings(_Section):
    width: int = Field(default=1280, ge=64, le=4096)     # painted image size
    height: int = Field(default=720, ge=64, le=4096)
    cache_mb: int = Field(default=2048, ge=16)           # image cache size limit
    content_filter: Literal["off", "standard"] = "standard"
    steps: int = Field(default=0, ge=0, le=100)          # 0: the painter's own default


class PrefetchSettings(_Section):
    enabled: bool = True
    breadth: int = Field(default=4, ge=0, le=4)   # visible choices narrated ahead
    depth: int = Field(default=1, ge=0, le=3)     # levels ahead
    images: bool = True                           # paint prefetched scenes too


class AudioSettings(_Section):
    music: str = "procedural"          # procedural | musicgen:<id or path> | none
    voice: str = "espeak"              # espeak | transformers:<id or path> | none
    read_aloud: bool = False           # self-voicing: the narration read aloud as it appears
    muted: bool = False                # U in the game
    music_volume: float = Field(default=0.6, ge=0.0, le=1.0)
    voice_volume: float = Field(default=1.0, ge=0.0, le=1.0)
    effects_volume: float = Field(default=0.8, ge=0.0, le=1.0)


NarratorOption = bool | int | float | str


class Config(_Section):
    game: GameSettings = Field(default_factory=GameSettings)
    # Options for the LLM narrators: sampler knobs (temperature, min_p, repetition_penalty,
    # dry_multiplier, preset...) and backend ones (max_new_tokens, response_format, timeout...).
    narrator: dict[str, NarratorOption] = Field(default_factory=dict, max_length=64)
    display: DisplaySettings = Field(default_factory=DisplaySettings)
    images: ImageSettings = Field(default_factory=ImageSettings)
    prefetch: PrefetchSettings = Field(default_factory=PrefetchSettings)
    audio: AudioSettings = Field(default_factory=AudioSettings)

    @property
    def saves_dir(self) -> Path:
        return Path(self.game.saves_dir).expanduser() if self.game.saves_dir else PROJECT_ROOT / "saves"

    @property
    def worlds_dir(self) -> Path:
        return Path(self.game.worlds_dir).expanduser() if self.game.worlds_dir else self.saves_dir / "worlds"

    def make_narrator(self, spec: str | None = None):
        """The narrator for `spec` (default: the game's), with the [narrator] options."""
        from engine.narrators import make_narrator
        return make_narrator(spec or self.game.narrator, **self.narrator)

    def with_changes(self, **sections: dict[str, Any]) -> "Config":
        """A copy with some keys changed, e.g. with_changes(game={"seed": 3})."""
        data = self.model_dump()
        for section, values in sections.items():
            data[section].update({k: v for k, v in values.items() if v is not None})
        return _validate(data, "command line")


def user_config_path() -> Path:
    if os.environ.get("DREAMREEL_CONFIG"):
        return Path(os.environ["DREAMREEL_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "dreamreel" / "config.toml"


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: over {MAX_CONFIG_BYTES >> 20} MB; that is not a "
                              f"Dreamreel config file.")
        return tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err}). Fix or delete the file.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot be read ({err}).") from None


def _validate(data: dict, where: str) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        problems = []
        for item in err.errors():
            key = ".".join(str(p) for p in item["loc"])
            message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
            problems.append(f"{key}: {message}")
        raise ConfigError(f"{where}: " + "; ".join(problems)) from None


def _merge(base: dict, top: dict) -> dict:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key].update(value)
        else:
            out[key] = value
    return out


def load_config(user_file: Path | None = None, use_user_file: bool = True) -> Config:
    """Defaults, then the user's file (if any). Raises ConfigError naming the file and key.

    Args:
        user_file: a file the player named (--config): it must exist, or ConfigError says so.
            Without it the user's usual file is read when there is one.
        use_user_file: False reads the shipped defaults alone (tests, tools)."""
    data = _read(DEFAULTS_FILE) if DEFAULTS_FILE.exists() else {}
    _validate(data, str(DEFAULTS_FILE))
    if use_user_file and user_file is not None and not Path(user_file).is_file():
        raise ConfigError(f"{user_file}: no such config file. Check the path given to --config, "
                          f"or leave --config out to use {user_config_path()}.")
    path = user_file or user_config_path()
    if use_user_file and path.exists():
        user = _read(path)
        _validate(_merge(data, user), str(path))
        data = _merge(data, user)
    return _validate(data, "config")


SETTINGS_FILE_NAME = "settings.toml"   # a --saves-dir's own settings, written by the game


def settings_file_for(config_file: Path | None, saves_dir: Path | None) -> Path | None:
    """Where a run writes the settings changed in the game: the --config file it was given,
    else its --saves-dir's own settings file, else None (the user's usual config file). So a
    run with its own folder never changes the settings of the player's other games."""
    if config_file is not None:
        return Path(config_file)
    if saves_dir is not None:
        return Path(saves_dir).expanduser() / SETTINGS_FILE_NAME
    return None


def with_settings_file(config: Config, path: Path | None) -> Config:
    """The config with a settings file the game wrote (settings_file_for) laid over it, when
    there is one. Raises ConfigError naming the file and key when it is broken."""
    if path is None or not Path(path).is_file():
        return config
    data = _merge(config.model_dump(), _read(Path(path)))
    return _validate(data, str(path))


def save_user_settings(changes: dict[str, dict[str, Any]], user_file: Path | None = None) -> Path:
    """Write changed settings into the user config, keeping what else is there."""
    path = user_file or user_config_path()
    current = _read(path) if path.exists() else {}
    merged = _merge(current, changes)
    _validate(_merge(_read(DEFAULTS_FILE) if DEFAULTS_FILE.exists() else {}, merged), str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, dump_toml(merged).encode("utf-8"))
    except OSError as err:
        raise ConfigError(f"Could not write settings to {path}: {err.strerror or err}.") from None
    return path
