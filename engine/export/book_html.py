"""The book's words as markup: the title page, each chapter, the actions between them, the end.

The one-file HTML book and the EPUB's chapters share this markup (an EPUB chapter is the same
section, with its picture as a file instead of a data: URI). `HtmlBook` streams the one-file
book: head, styles and title page first, then one chapter at a time, so only one picture is
ever held. Every piece of text is escaped here: narration, titles and actions come from models
and mods, and may hold markup.

This module writes markup only: it never paints, encodes pictures or opens files itself.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from engine.export.book_style import Palette, font_data_uris, stylesheet
from engine.text import without_controls

if TYPE_CHECKING:  # pragma: no cover
    from engine.export.story import ExportedScene, ExportedStory

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_NUMBER_WORDS = ("Zero One Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve Thirteen "
                 "Fourteen Fifteen Sixteen Seventeen Eighteen Nineteen Twenty").split()


def text(value: str) -> str:
    """value escaped for HTML and XHTML, with characters neither may hold removed."""
    return html.escape(without_controls(value, keep="\n"), quote=True)


def paragraphs(value: str) -> list[str]:
    """value's paragraphs (split on blank lines) as <p> markup; single line breaks kept."""
    parts = [part.strip() for part in _BLANK_LINE.split(value.replace("\r\n", "\n"))]
    return [f"<p>{'<br/>'.join(text(line.strip()) for line in part.splitlines())}</p>"
            for part in parts if part]


def chapter_name(number: int) -> str:
    """"Chapter Three", in words up to twenty, then in figures."""
    return f"Chapter {_NUMBER_WORDS[number] if number < len(_NUMBER_WORDS) else number}"


@dataclass(frozen=True)
class Bridge:
    """The action that led from one chapter to the next, set as a quiet line between them."""

    markup: str
    continues: bool   # it was taken in the chapter just before (False: in an earlier one)


def bridge(scene: "ExportedScene", previous: "ExportedScene | None",
           titles: dict[int, str]) -> Bridge | None:
    """The quiet line that leads into `scene`, or None for the opening.

    On a played path the action was taken in the chapter before; on the "all" path a chapter
    may branch from an earlier scene, which the line then names.
    """
    if not scene.action:
        return None
    said = f"You: {text(scene.action)}" if scene.typed else f"You chose: {text(scene.action)}"
    continues = previous is not None and scene.parent == previous.id
    if not continues and scene.parent in titles:
        where = text(titles[scene.parent])
        said = f"Back at \u201c{where}\u201d \u2014 {said[0].lower()}{said[1:]}"
    return Bridge(f'<p class="action">{said}</p>\n', continues)


def title_page(story: "ExportedStory") -> str:
    """The title page: the world's title, whose story it is, the premise."""
    premise = "\n".join(paragraphs(story.premise))
    return (f'<header class="title-page">\n<h1>{text(story.world_title)}</h1>\n'
            f'<p class="byline">A story of {text(story.player_name)}</p>\n'
            f'<div class="premise">{premise}</div>\n'
            f'<p class="ornament" aria-hidden="true">\u2766</p>\n</header>\n')


def chapter(number: int, scene: "ExportedScene", picture_src: str | None,
            lead_in: Bridge | None = None) -> str:
    """One chapter: picture, a small line (chapter and place), the title, the narration.

    lead_in: an action that branched from an earlier chapter, set at this chapter's head
    (an action that continues from the chapter before belongs after that chapter).
    """
    mood = scene.mood if re.fullmatch(r"[a-z]+", scene.mood or "") else "none"
    kicker = chapter_name(number)
    if scene.location:
        kicker += " \u00b7 " + scene.location.replace("_", " ").strip().title()
    parts = [f'<section class="chapter mood-{mood}" id="chapter-{number}">\n']
    if lead_in is not None and not lead_in.continues:
        parts.append(lead_in.markup)
    if picture_src is not None:
        parts.append(f'<figure class="picture"><img src="{text(picture_src)}" '
                     f'alt="{text(scene.title)}"/></figure>\n')
    parts.append(f'<header class="heading"><p class="kicker">{text(kicker)}</p>\n'
                 f'<h2>{text(scene.title)}</h2></header>\n')
    parts.append('<div class="narration">\n' + "\n".join(paragraphs(scene.narration))
                 + "\n</div>\n</section>\n")
    return "".join(parts)


def ending(last: "ExportedScene | None") -> str:
    """The book's last line: the end, or that the story goes on."""
    words = "The End" if last is not None and last.ending else "To be continued"
    return f'<p class="the-end">{words}</p>\n'


class HtmlBook:
    """Streams the one-file book into an open text file: begin, chapter..., end."""

    def __init__(self, handle: TextIO, story: "ExportedStory"):
        self.handle = handle
        self.story = story
        self.titles = {scene.id: scene.title for scene in story.scenes}
        self.previous: "ExportedScene | None" = None

    def begin(self, palette: Palette) -> None:
        """The head (styles, fonts as data: URIs) and the title page."""
        story = self.story
        title = f"{story.world_title} \u2014 a story of {story.player_name}"
        self.handle.write(
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
            '<meta name="generator" content="Dreamreel"/>\n'
            f"<title>{text(title)}</title>\n<style>\n"
            f"{stylesheet(palette, font_data_uris())}</style>\n</head>\n<body>\n<main>\n"
            f"{title_page(story)}")

    def chapter(self, number: int, scene: "ExportedScene", picture_uri: str | None) -> None:
        """One chapter, after the action that led on to it."""
        lead_in = bridge(scene, self.previous, self.titles)
        if lead_in is not None and lead_in.continues:
            self.handle.write(lead_in.markup)
        self.handle.write(chapter(number, scene, picture_uri, lead_in))
        self.previous = scene

    def end(self) -> None:
        self.handle.write(f"{ending(self.previous)}</main>\n</body>\n</html>\n")


__all__ = ["Bridge", "HtmlBook", "bridge", "chapter", "chapter_name", "ending", "paragraphs",
           "text", "title_page"]
