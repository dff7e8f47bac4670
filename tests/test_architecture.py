"""The architecture's import rules, checked with import-linter against the contracts in pyproject.toml.

The engine never imports the front end or pygame; the front end imports only the engine's public
API (engine, engine.config, engine.errors, engine.events, engine.library); game/ has no import
cycles. The linter runs in a subprocess (it puts the working folder on sys.path and reads every
source file), without its cache, so the test leaves nothing behind.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("importlinter", reason="import-linter is a dev dependency (make test)")

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_ENGINE = {"config", "errors", "events", "library"}   # besides the root package itself
LINT = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))")


def contracts(pyproject: Path = ROOT / "pyproject.toml") -> list[dict]:
    with open(pyproject, "rb") as handle:
        return tomllib.load(handle)["tool"]["importlinter"]["contracts"]


def lint(folder: Path, config: Path) -> subprocess.CompletedProcess:
    """lint-imports on the packages in `folder`, with the contracts in `config`."""
    return subprocess.run([sys.executable, "-c", LINT, str(config)], cwd=folder,
                          capture_output=True, text=True, timeout=300,
                          env={"PATH": "", "PYTHONPATH": str(folder), "PYTHONSAFEPATH": "1"})


def test_the_import_contracts_are_kept():
    result = lint(ROOT, ROOT / "pyproject.toml")
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    for contract in contracts():
        assert f"{contract['name']} KEPT" in " ".join(report.split()), report


def test_every_part_of_the_engine_is_public_or_kept_from_the_front_end():
    """A new engine module or package must be made public or added to the forbidden list,
    so the front end cannot start using it unnoticed."""
    import engine
    parts = {info.name for info in pkgutil.iter_modules(engine.__path__)}
    public_only = next(c for c in contracts() if c["id"] == "game-uses-public-engine")
    forbidden = {name.removeprefix("engine.") for name in public_only["forbidden_modules"]}
    assert PUBLIC_ENGINE <= parts
    unlisted = sorted(parts - PUBLIC_ENGINE - forbidden)
    assert not unlisted, (f"engine.{', engine.'.join(unlisted)}: add to forbidden_modules of the "
                          f"'game-uses-public-engine' contract in pyproject.toml (or make public)")
    assert forbidden <= parts, f"listed but gone: {sorted(forbidden - parts)}"


def test_the_contracts_catch_each_kind_of_break(tmp_path):
    """The same contracts on a small tree that breaks every one of them: each is reported."""
    public_only = next(c for c in contracts() if c["id"] == "game-uses-public-engine")
    files = {"engine/__init__.py": "", "game/__init__.py": "",
             "engine/config.py": "import game.app\n",                  # the engine uses the game
             "engine/errors.py": "import pygame\n",                    # ... and pygame
             "engine/events.py": "", "engine/library.py": "",
             "game/app.py": "import engine.session\nimport game.screens\n",  # a private part
             "game/screens.py": "import game.app\n"}                  # a cycle
    for name in public_only["forbidden_modules"]:
        files.setdefault(name.replace(".", "/") + ".py", "")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    config = tmp_path / "pyproject.toml"
    config.write_bytes((ROOT / "pyproject.toml").read_bytes())
    result = lint(tmp_path, config)
    report = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1, report
    for contract in contracts():
        assert f"{contract['name']} BROKEN" in report, report
    assert "game.app -> engine.session" in report and "engine.errors -> pygame" in report
