"""Opening the game: what `dreamreel play` runs to show the window, and what it says without one.

run_window() builds the App (game.app), opens its window and runs its loop on the title screen,
a resumed story or, for a smoke run, a new story for a number of frames. Where SDL has no real
display (a server, a container) it says so and names the command for terminal play instead of
opening an invisible window. Nothing happens at import; the App is imported when a window opens.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pygame

from engine.config import Config


def run_window(config: Config, resume: bool = False, slot: str | None = None,
               frames: int | None = None, screenshot: Path | None = None, **options) -> int:
    """Open the game window (what `dreamreel play` runs); returns the exit code.

    With `resume` the given slot (any, the autosave too; None: the latest save) is loaded at once.
    With `frames` (a smoke run, e.g. for a screenshot) a new story starts at once instead of the
    title screen, the loop stops after that many frames and the last one is saved to `screenshot`.
    """
    from game.app import App
    app = App(config, slot=slot, **options).open()
    if frames is None and _headless():
        app.close()
        print(f"dreamreel: no display to open a window on (SDL found none). {text_mode_hint()}",
              file=sys.stderr)
        return 2
    from game.screens.title import TitleScreen
    if resume:
        app.load_game(slot)
    elif frames is not None:
        app.new_game()
    else:
        app.replace_all(TitleScreen(app))
    return app.run(frames=frames, screenshot=screenshot)


def text_mode_hint() -> str:
    """How to play in the terminal, as a command that works from here: `dreamreel` only when
    that is what is on PATH, else the script's own path (e.g. .venv/bin/dreamreel after
    `make play`), and the make target."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    command = ".venv/bin/dreamreel"
    if script is not None and script.name == "dreamreel":
        found = shutil.which("dreamreel")
        if found and Path(found).resolve() == script.resolve():
            command = "dreamreel"
        else:
            relative = os.path.relpath(script.resolve())
            command = str(script.resolve()) if relative.startswith("..") else relative
            if os.sep not in command:
                command = f".{os.sep}{command}"
    return f"Play in the terminal instead: {command} play --text (or: make play ARGS=--text)"


def _headless() -> bool:
    """True when SDL has no real display (no X11/Wayland/...): a window would be invisible."""
    return pygame.display.get_driver() in ("offscreen", "dummy")


__all__ = ["run_window", "text_mode_hint"]
