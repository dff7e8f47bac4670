"""A played story as a book: one self-contained HTML file, and an EPUB.

Each scene of the path is a chapter: its picture, a small line (chapter and place), its title
and narration; the choice or typed action that led on is a quiet line between chapters. The
HTML book needs nothing but itself (fonts and pictures are data: URIs, no scripts, no links
out), opens offline in any browser and prints one chapter a page. The EPUB (bound with
ebooklib) has the first picture as its cover. Looks: engine.export.book_style; markup:
engine.export.book_html; binding: engine.export.epub.

The story is read through engine.export.story (a read-only copy of a slot) and never changed.
Pictures are made one at a time (from the image cache, or painted), encoded and written before
the next. Output goes to temp files beside the targets, renamed into place only when all is
done: a cancelled or failed export leaves no file behind.
"""

from __future__ import annotations

import base64
import io
import os
import secrets
import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from engine.errors import DreamreelError
from engine.export.story import PathKind, Progress, read_story, scene_picture

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image as PILImage

    from engine.session.core import Session

FORMATS: tuple[str, ...] = ("html", "epub")
PICTURE_FORMATS: tuple[str, ...] = ("jpeg", "webp")   # of the HTML book; the EPUB's are JPEG
JPEG_QUALITY = 82      # a sharp picture at about a tenth of a PNG's size
WEBP_QUALITY = 80      # about the JPEG's look, a third smaller
PICTURES_SHARE = 0.92  # of the progress bar, when an EPUB is bound after the pictures


def encode_picture(image: "PILImage.Image", kind: str = "jpeg") -> bytes:
    """image as JPEG or WebP bytes, the way the book embeds it."""
    buffer = io.BytesIO()
    if kind == "webp":
        image.save(buffer, "WEBP", quality=WEBP_QUALITY, method=4)
    else:
        image.convert("RGB").save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True,
                                  progressive=True)
    return buffer.getvalue()


def book_paths(out: Path, formats: Iterable[str] = FORMATS) -> dict[str, Path]:
    """Where each format goes: beside `out`, with its stem (book.html, book.epub)."""
    out = Path(out)
    return {kind: out.with_suffix("." + kind) for kind in formats}


def _check(formats: tuple[str, ...], picture_format: str, picture_size) -> None:
    unknown = [kind for kind in formats if kind not in FORMATS]
    if unknown or not formats:
        raise DreamreelError(f"Unknown book format '{', '.join(unknown) or 'none'}': "
                             f"use {' and/or '.join(FORMATS)}.")
    if picture_format not in PICTURE_FORMATS:
        raise DreamreelError(f"Unknown picture format '{picture_format}': "
                             f"use {' or '.join(PICTURE_FORMATS)}.")
    width, height = picture_size
    if not (16 <= width <= 4096 and 16 <= height <= 4096):
        raise DreamreelError(f"Book pictures must be 16 to 4096 pixels a side, "
                             f"not {width}x{height}.")


def _temp_beside(target: Path) -> Path:
    """A new, empty file beside target to write it in (made with the usual permissions)."""
    while True:
        temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            temp.open("xb").close()
            return temp
        except FileExistsError:   # pragma: no cover - 48 random bits
            continue


def export_book(session: "Session", out: Path, *, path: PathKind = "current",
                formats: Iterable[str] = FORMATS, picture_size: tuple[int, int] = (1280, 720),
                picture_format: str = "jpeg", on_progress: Progress | None = None) -> list[Path]:
    """Make the book of a saved story: `out` with .html and/or .epub as its suffix.

    Args:
        session: a story opened with engine.export.story.open_story (it is only read).
        out: the book's path; each format goes beside it with the same stem (a.html, a.epub).
            Its folder is made if missing; existing books of that name are replaced.
        path: which scenes: "current" (the played path), "longest" or "all".
        formats: "html" (one self-contained file) and/or "epub".
        picture_size: the pictures' width and height in pixels (scaled and centre-cropped).
        picture_format: "jpeg" or "webp", for the HTML book's pictures.
        on_progress: called with (fraction done, what); JobCancelled raised from it (or from
            a painter's progress) stops the export and leaves no file.

    Returns:
        The files written, in the order of `formats`.

    Raises:
        DreamreelError: a bad argument, or a story with no told scene.
        PainterError, OSError: a picture could not be painted, or a file written.
    """
    formats = tuple(dict.fromkeys(formats))
    _check(formats, picture_format, picture_size)
    story = read_story(session, path)
    if not story.scenes:
        raise DreamreelError("This story has no told scene yet: there is no book to make.")
    targets = book_paths(out, formats)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    report = on_progress or (lambda fraction, what: None)
    share = PICTURES_SHARE if "epub" in formats else 1.0
    count = len(story.scenes)
    temps: dict[str, Path] = {}
    workdir: Path | None = None
    try:
        with ExitStack() as stack:
            html = epub = None
            if "html" in formats:
                from engine.export.book_html import HtmlBook
                temps["html"] = _temp_beside(targets["html"])
                handle = stack.enter_context(open(temps["html"], "w", encoding="utf-8"))
                html = HtmlBook(handle, story)
            if "epub" in formats:
                from engine.export.epub import EpubBook
                temps["epub"] = _temp_beside(targets["epub"])
                workdir = Path(tempfile.mkdtemp(prefix=f".{targets['epub'].name}.",
                                                suffix=".tmp", dir=targets["epub"].parent))
                epub = EpubBook(story, workdir)
            for index, scene in enumerate(story.scenes):
                what = f"Chapter {index + 1} of {count}: {scene.title}"
                report(share * index / count, what)
                picture = scene_picture(
                    session, scene.id, picture_size,
                    on_progress=lambda done, i=index, w=what: report(share * (i + done) / count, w))
                jpeg = (encode_picture(picture) if epub is not None or picture_format == "jpeg"
                        else None)
                if index == 0:
                    from engine.export.book_style import palette_from
                    palette = palette_from(picture)
                    if html is not None:
                        html.begin(palette)
                    if epub is not None:
                        epub.begin(palette, jpeg)
                if html is not None:
                    data = jpeg if picture_format == "jpeg" else encode_picture(picture, "webp")
                    html.chapter(index + 1, scene, f"data:image/{picture_format};base64,"
                                 + base64.b64encode(data).decode("ascii"))
                    del data
                del picture
                if epub is not None:
                    epub.chapter(index + 1, scene, jpeg)
                del jpeg
            if html is not None:
                html.end()
        if epub is not None:
            report(share, "Binding the EPUB")
            epub.write(temps["epub"])
        report(1.0, "Book done")
        for kind in formats:
            os.replace(temps.pop(kind), targets[kind])
    finally:
        for leftover in temps.values():
            leftover.unlink(missing_ok=True)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return [targets[kind] for kind in formats]


__all__ = ["FORMATS", "PICTURE_FORMATS", "book_paths", "encode_picture", "export_book"]
