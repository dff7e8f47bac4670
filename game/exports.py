"""Exports from the window: a film, a book or a Twine story of the story being played.

The export runs on the App's background runner while play goes on; the story screen shows its
progress, the export screen can cancel it, and a toast says where the file went (the Library's
exports folder). It reads what is saved, so the latest turn is written to disk first. One export
at a time. No drawing here, and nothing of the engine but its public API.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import JobCancelled

LABELS = {"film": "Film", "book": "Book", "twee": "Twine story"}


@dataclass
class ExportTask:
    """One export in flight: how far it is, and whether the player cancelled it."""

    kind: str
    slot: str
    fraction: float = 0.0
    what: str = "Starting"
    cancelled: bool = False
    files: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    def progress(self, fraction: float, what: str) -> None:
        """The exporter's progress callback (on the background thread): raising JobCancelled
        is how a cancel reaches the exporter, which then leaves no file behind."""
        if self.cancelled:
            raise JobCancelled("export cancelled")
        self.fraction, self.what = max(self.fraction, float(fraction)), str(what)


class Exports:
    """The window's exports (game.app.App holds one)."""

    def __init__(self, app):
        self.app = app
        self.task: ExportTask | None = None

    @property
    def running(self) -> bool:
        return self.task is not None

    def start(self, kind: str) -> None:
        """Export the story being played, in the background."""
        app = self.app
        session = app.session
        if session is None:
            app.error("Start or load a story first: there is nothing to export yet.")
            return
        if self.task is not None:
            app.error(f"A {self.task.label.lower()} is being made; wait for it or cancel it.")
            return
        session.flush_saves()              # the export reads the slot: the latest turn first
        task = self.task = ExportTask(kind, session.slot)
        library, folder = app.library, app.library.exports_dir

        def work():
            try:
                return library.export(kind, task.slot, folder=folder, on_progress=task.progress)
            except JobCancelled:      # said here: a cancelled job would end without a word
                return None

        app.background(work, lambda files: self._done(task, files),
                       lambda err: self._failed(task, err))
        app.changed()

    def cancel(self) -> None:
        """Stop the export at its next step; it leaves no file behind."""
        if self.task is not None:
            self.task.cancelled = True

    def _done(self, task: ExportTask, files) -> None:
        self.task = None
        if files is None:
            self.app.notice(f"{task.label} cancelled; nothing was written.")
        else:
            task.files = list(files)
            self.app.notice(f"{task.label} saved: {task.files[0]}")
        self.app.changed()

    def _failed(self, task: ExportTask, err: BaseException) -> None:
        self.task = None
        self.app.error(f"The {task.label.lower()} could not be made: {err}")
        self.app.changed()
