"""The book as an EPUB 3, bound with ebooklib: a cover, a title page, one chapter per scene.

Chapters are the same markup as the one-file book (engine.export.book_html), each in its own
XHTML file with its picture as a JPEG beside it; the first picture is also the cover. The
fonts and the stylesheet travel inside the book. Pictures wait on disk in a working folder
until the book is bound (only the cover's bytes stay in memory), so a long story never holds
more than one decoded picture.

This module binds the book only: it never paints or reads the story; book.py drives it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from engine.export.book_html import bridge, chapter, ending, title_page
from engine.export.book_style import Palette, font_files, stylesheet
from engine.text import without_controls

if TYPE_CHECKING:  # pragma: no cover
    from engine.export.story import ExportedScene, ExportedStory

COVER = "images/cover.jpg"      # the first picture, as the cover and in the first chapter
STYLE = "style/book.css"


def _epub():
    from ebooklib import epub   # imported when a book is bound, never at engine import
    return epub


def _file_item(kind, uid: str, file_name: str, media_type: str, path: Path):
    """An ebooklib item whose content is read from `path` when the book is written."""
    class FileItem(kind):
        def get_content(self, default=None):
            return path.read_bytes()
    return FileItem(uid=uid, file_name=file_name, media_type=media_type)


class EpubBook:
    """An EPUB made chapter by chapter: begin, chapter..., write."""

    def __init__(self, story: "ExportedStory", workdir: Path):
        self.story = story
        self.workdir = workdir                     # where pictures wait until the book is bound
        self.titles = {scene.id: scene.title for scene in story.scenes}
        self.previous: "ExportedScene | None" = None
        self.chapters: list = []                   # EpubHtml items, in order
        self.bodies: list[str] = []                # their markup, until the next bridge is known
        self.book = None
        self.css = None

    def begin(self, palette: Palette, cover_jpeg: bytes | None) -> None:
        """Metadata, fonts, the stylesheet, the cover and the title page."""
        epub = _epub()
        story = self.story
        book = self.book = epub.EpubBook()
        seed = "|".join([story.world_id, story.slot, story.path,
                         ",".join(str(scene.id) for scene in story.scenes)])
        book.set_identifier(f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'dreamreel:' + seed)}")
        book.set_title(story.world_title)
        book.set_language("en")
        book.add_author(story.player_name)
        book.add_metadata("DC", "description", story.premise)
        fonts = {}
        for number, path in enumerate(font_files()):
            name = f"fonts/{path.name}"
            book.add_item(_file_item(epub.EpubItem, f"font-{number}", name, "font/ttf", path))
            fonts[path.name] = f"../{name}"
        self.css = book.add_item(epub.EpubItem(
            uid="style", file_name=STYLE, media_type="text/css",
            content=stylesheet(palette, fonts, epub=True).encode("utf-8")))
        if cover_jpeg is not None:
            book.set_cover(COVER, cover_jpeg)
        page = self._document("title-page", "title.xhtml", story.world_title,
                              title_page(story))
        book.spine = (["cover"] if cover_jpeg is not None else []) + [page, "nav"]

    def _document(self, uid: str, file_name: str, title: str, body: str):
        epub = _epub()
        item = epub.EpubHtml(uid=uid, file_name=file_name, title=title, lang="en")
        item.content = f"<html><body>{body}</body></html>"
        item.add_item(self.css)
        return self.book.add_item(item)

    def chapter(self, number: int, scene: "ExportedScene", jpeg: bytes | None) -> None:
        """One chapter and its picture (the first picture is the cover, already in)."""
        epub = _epub()
        source = None
        if jpeg is not None and number == 1 and self.book.get_item_with_href(COVER) is not None:
            source = COVER
        elif jpeg is not None:
            source = f"images/scene-{number:03d}.jpg"
            waiting = self.workdir / f"scene-{number:03d}.jpg"
            waiting.write_bytes(jpeg)
            self.book.add_item(_file_item(epub.EpubImage, f"picture-{number}", source,
                                          "image/jpeg", waiting))
        lead_in = bridge(scene, self.previous, self.titles)
        if lead_in is not None and lead_in.continues and self.bodies:
            self.bodies[-1] += lead_in.markup       # it closes the chapter it was taken in
        self.bodies.append(chapter(number, scene, source, lead_in))
        item = epub.EpubHtml(uid=f"chapter-{number}", file_name=f"chapter-{number:03d}.xhtml",
                             title=without_controls(scene.title), lang="en")
        item.add_item(self.css)
        self.chapters.append(self.book.add_item(item))
        self.previous = scene

    def write(self, target: Path) -> None:
        """Bind the book into `target` (mimetype first and stored, as EPUB requires)."""
        epub = _epub()
        if self.bodies:
            self.bodies[-1] += ending(self.previous)
        for item, body in zip(self.chapters, self.bodies):
            item.content = f"<html><body>{body}</body></html>"
        book = self.book
        book.toc = [epub.Link(item.file_name, item.title, item.id) for item in self.chapters]
        book.add_item(epub.EpubNcx())
        book.add_item(epub.EpubNav())
        book.spine += self.chapters
        epub.write_epub(str(target), book, {"raise_exceptions": True})


__all__ = ["COVER", "EpubBook"]
