"""Test-wide setup: headless SDL, no network, no user config, a private saves folder."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("DREAMREEL_TORCH_THREADS", "1")   # tiny models: one thread is fastest
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["DREAMREEL_CONFIG"] = os.path.join(os.path.dirname(__file__), "no-such-config.toml")

import pytest  # noqa: E402


@pytest.fixture
def config(tmp_path):
    """The shipped defaults with saves in a temp folder and a fixed seed."""
    from engine.config import load_config
    return load_config(use_user_file=False).with_changes(
        game={"saves_dir": str(tmp_path / "saves"), "seed": 7})


def pytest_collection_modifyitems(config, items):
    """Keep the ini's ignores of third-party warnings in force under `-W error::...`.

    pytest applies command-line -W options after the ini's `filterwarnings`, so
    `pytest -W error::DeprecationWarning` would make the third-party warnings that the ini
    ignores by name errors again. Filter marks are applied after both: each ignore is also put
    on every test as a mark (first, so a test's own marks still take precedence).
    """
    ignores = [spec for spec in config.getini("filterwarnings") if spec.startswith("ignore:")]
    if ignores:
        for item in items:
            item.add_marker(pytest.mark.filterwarnings(*ignores), append=False)
