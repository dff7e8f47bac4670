"""`import engine` must stay cheap: no pygame, no torch, no transformers, no diffusers."""

import subprocess
import sys


def test_import_engine_loads_no_heavy_modules():
    code = ("import sys, engine, engine.session.core, engine.narrators, engine.painters;"
            "heavy = [m for m in ('pygame', 'torch', 'transformers', 'diffusers', 'llguidance', 'game')"
            " if m in sys.modules]; print(','.join(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""


def test_engine_never_imports_the_front_end():
    from pathlib import Path
    root = Path(__file__).resolve().parents[2] / "engine"
    offenders = []
    for path in root.rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import pygame", "from pygame", "import game", "from game")):
                offenders.append(f"{path}: {stripped}")
    assert offenders == []
