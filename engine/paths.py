"""Where Dreamreel's own files are: the project folder and its shipped, moddable assets.

A leaf module (it imports nothing of Dreamreel), so anything may ask where assets live without
pulling in the configuration or the worlds.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS = PROJECT_ROOT / "assets"  # shipped, moddable defaults: prompts, worlds, fonts, scaffold

__all__ = ["PROJECT_ROOT", "ASSETS"]
