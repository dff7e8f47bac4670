"""Exporters: a played story as a film (MP4), a book (HTML and EPUB) or a Twine story (Twee 3).

Each reads a saved story through engine.export.story (a read-only copy of the slot: nothing is
ever written back), streams its output to a file, reports progress and can be cancelled.
`export_story` is the one entry point the Library (and so the command line and the window)
uses. Nothing heavy is imported until an export runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import DreamreelError

if TYPE_CHECKING:  # pragma: no cover
    from engine.config import Config
    from engine.export.story import Progress

KINDS = ("film", "book", "twee")
SUFFIXES = {"film": ".mp4", "book": ".html", "twee": ".twee"}
FILM_SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


def default_out(kind: str, slot: str, folder: Path) -> Path:
    """Where an export goes when the player names no file: `<folder>/<slot><suffix>`."""
    return Path(folder) / f"{slot}{SUFFIXES[kind]}"


def export_story(config: "Config", kind: str, slot: str | None, out: Path | None = None, *,
                 folder: Path | None = None, path: str = "current", story_format: str = "harlowe",
                 film_size: str = "720p", on_progress: "Progress | None" = None) -> list[Path]:
    """Export a saved story and return the files written (the first is the main one).

    Args:
        config: the configuration (saves folder, the story's painter for missing pictures).
        kind: "film", "book" or "twee".
        slot: the save slot (None: the newest).
        out: the file to write; default `<folder>/<slot>` with the kind's suffix.
        folder: where a default `out` goes (default: the current folder).
        path: the scenes of a film or book: "current", "longest" or "all" (a Twine story
            always holds the whole story).
        story_format: the Twine story format, "harlowe" or "sugarcube".
        film_size: "720p" or "1080p".
        on_progress: (fraction, what); JobCancelled raised from it stops the export and
            leaves no file behind.

    Raises:
        DreamreelError: an unknown kind or option, or a slot that cannot be read.
    """
    from engine.export.story import PATHS, open_story

    if kind not in KINDS:
        raise DreamreelError(f"Unknown export '{kind}': use {', '.join(KINDS)}.")
    if path not in PATHS:
        raise DreamreelError(f"Unknown path '{path}': use {', '.join(PATHS)}.")
    if film_size not in FILM_SIZES:
        raise DreamreelError(f"Unknown film size '{film_size}': use {', '.join(FILM_SIZES)}.")
    session = open_story(config, slot)
    try:
        target = Path(out) if out is not None else default_out(kind, session.slot,
                                                               folder or Path.cwd())
        if kind == "film":
            from engine.export.film import export_film
            result = export_film(session, target, size=FILM_SIZES[film_size], path=path,
                                 on_progress=on_progress)
            return [result.path, result.subtitles]
        if kind == "book":
            from engine.export.book import export_book
            return export_book(session, target.with_suffix(".html"), path=path,
                               on_progress=on_progress)
        from engine.export.twee import export_twee
        return [export_twee(session, target, story_format=story_format,
                            on_progress=on_progress)]
    finally:
        session.close()


__all__ = ["KINDS", "SUFFIXES", "FILM_SIZES", "default_out", "export_story"]
