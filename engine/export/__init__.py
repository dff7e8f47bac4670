"""Exporters: a played story as a film (MP4), a book (HTML and EPUB) or a Twine story (Twee 3).

Each reads a saved story through engine.export.story (a read-only copy of the slot: nothing is
ever written back), streams its output to a file, reports progress and can be cancelled. None
of them is imported until used: `import engine.export` loads nothing heavy.
"""
