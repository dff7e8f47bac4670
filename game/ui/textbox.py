"""The narration box: text in pages that fit, revealed by a typewriter, kept in place on re-wrap.

A page holds whole paragraphs where they fit, as a visual novel shows one beat at a time; a
paragraph taller than the box is split between sentences (only a single sentence taller than the
box is split between lines). Text may
grow while shown (a narrator streaming): the typewriter keeps its place and goes on. When the
window or the text size changes, the reader's place is kept by character, not by page number.
Rendered lines come from the shared TextCache; only the line being typed is rendered per frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import re

import pygame

from game.ui.render import TextCache

if TYPE_CHECKING:
    from game.ui.theme import Ctx


class TextBox:
    """Narration in pages that fit the box, revealed by a typewriter.

    Text may grow while it is shown (a stream): the typewriter keeps its place and goes on. A
    click or key completes the page; the next one shows the next page. Pages hold whole
    paragraphs where they fit, as a visual novel shows one beat at a time.
    """

    def __init__(self):
        self.text = ""
        self.lines: list[str] = []
        self.pages: list[list[str]] = [[]]
        self.page = 0
        self.shown = 0.0          # characters revealed on the current page
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.instant = False      # reveal whole pages at once (text already read)
        self._finish = False      # finish() asked before the text was laid out
        self._wrapped_text = ""
        self._font_key = None
        self._max_lines = 1

    def set_text(self, text: str, reveal: bool = True) -> None:
        """Show text; if it extends what is shown (a stream), keep the typewriter's place."""
        if text == self.text:
            return
        grows = bool(self.text) and text.startswith(self.text.rstrip())
        self.text = text
        if not grows:
            self.page, self.shown, self.instant = 0, 0.0, False
            self.pages = [[]]          # positions restart with the new text
        self._font_key = None          # re-wrap at the next layout()
        if not reveal:
            self.finish()

    def layout(self, rect: pygame.Rect, font: pygame.font.Font, line_height: int,
               text: TextCache) -> None:
        key = (rect.size, id(font), line_height, self.text)
        self.rect = rect
        if key == self._font_key:
            return
        self._font_key = key
        # keep the reader's place (by characters) across a new size or a longer text
        was_end, was_done = self.at_end, self.page_done
        start = sum(len(line) for page in self.pages[:self.page] for line in page)
        offset = start + min(self.shown, self.page_chars)
        self._max_lines = max(1, rect.height // max(1, line_height))
        self.pages = paginate_text(text, font, self.text, rect.width, self._max_lines)
        self.lines = [line for page in self.pages for line in page]
        same_text = self.text == self._wrapped_text
        self._wrapped_text = self.text
        if self._finish or (same_text and was_end):
            self._apply_finish()
            return
        self.page, position = 0, 0
        while self.page < len(self.pages) - 1 and \
                position + sum(len(line) for line in self.pages[self.page]) <= start:
            position += sum(len(line) for line in self.pages[self.page])
            self.page += 1
        if same_text and was_done:
            self.shown = float(self.page_chars)
        else:
            self.shown = min(float(self.page_chars), max(0.0, offset - position))

    @property
    def page_chars(self) -> int:
        return sum(len(line) for line in self.pages[self.page])

    @property
    def page_done(self) -> bool:
        return self.shown >= self.page_chars

    @property
    def at_end(self) -> bool:
        return self.page >= len(self.pages) - 1 and self.page_done

    def update(self, dt: float, speed: int) -> None:
        if self.page_done:
            return
        if speed <= 0 or self.instant:
            self.shown = float(self.page_chars)
        else:
            self.shown += dt * speed

    def advance(self) -> bool:
        """Complete the page, or turn to the next one. False when already at the very end."""
        if not self.page_done:
            self.shown = float(self.page_chars)
            return True
        if self.page < len(self.pages) - 1:
            self.page += 1
            self.shown = float(self.page_chars) if self.instant else 0.0
            return True
        return False

    def back(self) -> bool:
        """Back one page (rollback within a scene). False on the first page."""
        if self.page == 0:
            return False
        self.page -= 1
        self.shown = float(self.page_chars)
        return True

    def finish(self) -> None:
        """Jump to the last page, fully shown (once laid out, if the text just changed)."""
        self._finish = True
        if self._font_key is not None:
            self._apply_finish()

    def _apply_finish(self) -> None:
        self._finish = False
        self.page = max(0, len(self.pages) - 1)
        self.shown = float(self.page_chars)

    def draw(self, surface: pygame.Surface, ctx: "Ctx", font: pygame.font.Font,
             line_height: int, colour) -> None:
        left = int(self.shown)
        y = self.rect.y
        for line in self.pages[self.page]:
            if left <= 0:
                break
            if line:
                if left >= len(line):
                    image = ctx.text.render(font, line, colour)
                else:
                    image = ctx.text.render_now(font, line[:left], colour)   # the typing line
                surface.blit(image, (self.rect.x, y))
            left -= len(line)
            y += line_height


def paginate(lines: list[str], max_lines: int) -> list[list[str]]:
    """Group wrapped lines into pages: whole paragraphs together while they fit."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line == "":
            paragraphs.append([])
        else:
            paragraphs[-1].append(line)
    pages: list[list[str]] = []
    current: list[str] = []
    for paragraph in paragraphs:
        if not paragraph:
            continue
        while len(paragraph) > max_lines:   # a paragraph taller than the box
            if current:
                pages.append(current)
                current = []
            pages.append(paragraph[:max_lines])
            paragraph = paragraph[max_lines:]
        needed = len(paragraph) + (1 if current else 0)
        if current and len(current) + needed > max_lines:
            pages.append(current)
            current = []
        current = current + ([""] if current else []) + paragraph
    if current or not pages:
        pages.append(current)
    return pages


SENTENCE_END = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)\]]*\s+")


def sentences(paragraph: str) -> list[str]:
    """A paragraph cut after each sentence's closing mark (and any closing quote)."""
    out, start = [], 0
    for match in SENTENCE_END.finditer(paragraph):
        out.append(paragraph[start:match.end()].strip())
        start = match.end()
    if paragraph[start:].strip():
        out.append(paragraph[start:].strip())
    return out


def paginate_text(cache: TextCache, font: pygame.font.Font, text: str, width: int,
                  max_lines: int) -> list[list[str]]:
    """Wrap and page text: whole paragraphs together while they fit; a paragraph taller than
    the box is cut between sentences, each page as full as whole sentences allow."""
    blocks: list[tuple[list[str], bool]] = []     # (lines, continues the paragraph before)
    for paragraph in text.split("\n"):
        if not paragraph.strip():
            continue
        lines = cache.wrap(font, paragraph, width)
        if len(lines) <= max_lines:
            blocks.append((lines, False))
            continue
        chunk: list[str] = []
        chunk_lines: list[str] = []
        first = True
        for sentence in sentences(paragraph):
            trial = cache.wrap(font, " ".join(chunk + [sentence]), width)
            if chunk and len(trial) > max_lines:
                blocks.append((chunk_lines, not first))
                first = False
                chunk, trial = [], cache.wrap(font, sentence, width)
            chunk.append(sentence)
            chunk_lines = trial
            while len(chunk_lines) > max_lines:     # one sentence taller than the box
                blocks.append((chunk_lines[:max_lines], not first))
                first = False
                chunk_lines = chunk_lines[max_lines:]
                chunk = [" ".join(chunk_lines)]
        if chunk_lines:
            blocks.append((chunk_lines, not first))
    pages: list[list[str]] = []
    current: list[str] = []
    for lines, continued in blocks:
        needed = len(lines) + (1 if current else 0)
        if current and (continued or len(current) + needed > max_lines):
            pages.append(current)
            current = []
        current = current + ([""] if current else []) + lines
    if current or not pages:
        pages.append(current)
    return pages
