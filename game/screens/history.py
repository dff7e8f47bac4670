"""The history (backlog): the narration and the choices made along the current path.

Opens over the story at the newest scene; the wheel, arrows, Page Up/Down and Home/End scroll it.
Lines are wrapped once per open (or window size) and only the visible ones are drawn, so even a
very long story scrolls smoothly. Esc, H or a right click returns to the story.
"""

from __future__ import annotations

import pygame

from game.screens.base import Screen
from game.ui.render import panel


class HistoryScreen(Screen):
    overlay = True

    def tint(self, palette):
        return palette.background + (225,)

    def __init__(self, app):
        super().__init__(app)
        self.lines: list[tuple[str, str, int]] = []   # (text, style, indent)
        self.scroll = 0       # pixels from the top of the content
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.content_height = 0
        self._built_for = None

    def layout(self, size) -> None:
        theme = self.app.theme
        margin_x = max(theme.px(60), (size[0] - theme.px(1000)) // 2)
        self.rect = pygame.Rect(margin_x, theme.px(40), size[0] - 2 * margin_x,
                                size[1] - theme.px(80))
        self._build()
        self.scroll = self.max_scroll

    def _fonts(self):
        theme = self.app.theme
        return {"title": theme.font("title", theme.font_size * 0.95),
                "text": theme.font("text", theme.font_size * 0.9),
                "choice": theme.font("italic", theme.font_size * 0.86),
                "gap": theme.font("text", theme.font_size * 0.5)}

    def _build(self) -> None:
        """Wrap the whole path into lines (once per open or resize)."""
        session, theme = self.app.session, self.app.theme
        self.lines = []
        if session is None:
            return
        fonts = self._fonts()
        width = self.inner.width
        path = session.path()
        for position, node in enumerate(path):
            scene = session.scene(node)
            if scene.current is None:
                continue
            if position > 0 and scene.label:
                prefix = "You typed: " if scene.free_text else "You chose: "
                for line in self.app.text.wrap(fonts["choice"], prefix + scene.label, width - theme.px(24)):
                    self.lines.append((line, "choice", theme.px(24)))
                self.lines.append(("", "gap", 0))
            self.lines.append((scene.current.title, "title", 0))
            for line in self.app.text.wrap(fonts["text"], scene.current.narration, width):
                self.lines.append((line, "text", 0))
            self.lines.append(("", "gap", 0))
            self.lines.append(("", "gap", 0))
        self.content_height = sum(fonts[style].get_linesize() for _, style, _ in self.lines)

    @property
    def inner(self) -> pygame.Rect:
        pad = self.app.theme.px(28)
        return pygame.Rect(self.rect.x + pad, self.rect.y + self.app.theme.px(64),
                           self.rect.width - 2 * pad, self.rect.height - self.app.theme.px(84))

    @property
    def max_scroll(self) -> int:
        return max(0, self.content_height - self.inner.height)

    def scroll_by(self, pixels: int) -> None:
        self.scroll = max(0, min(self.max_scroll, self.scroll + pixels))

    def handle(self, event) -> None:
        step = self.app.theme.font("text").get_linesize() * 3
        page = self.inner.height - step
        if event.type == pygame.MOUSEWHEEL:
            self.scroll_by(-event.y * step)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 3:
            self.app.pop()
        elif event.type == pygame.KEYDOWN:
            key = event.key
            if key in (pygame.K_ESCAPE, pygame.K_h):
                self.app.pop()
            elif key == pygame.K_UP:
                self.scroll_by(-step)
            elif key == pygame.K_DOWN:
                self.scroll_by(step)
            elif key == pygame.K_PAGEUP:
                self.scroll_by(-page)
            elif key in (pygame.K_PAGEDOWN, pygame.K_SPACE):
                self.scroll_by(page)
            elif key == pygame.K_HOME:
                self.scroll = 0
            elif key == pygame.K_END:
                self.scroll = self.max_scroll

    def draw(self, surface: pygame.Surface) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        surface.blit(panel(self.rect.size, pal.background + (255,), theme.px(12), pal.panel_edge),
                     self.rect)
        heading = ctx.text.render(theme.font("title", 26), "History", pal.accent)
        surface.blit(heading, (self.rect.x + theme.px(28), self.rect.y + theme.px(16)))
        hint = ctx.text.render(theme.ui_font(0.62), "wheel / arrows to scroll  ·  Esc or H to return",
                               pal.dim)
        surface.blit(hint, (self.rect.right - theme.px(28) - hint.get_width(),
                            self.rect.y + theme.px(28)))
        if not self.lines:
            surface.blit(ctx.text.render(theme.ui_font(), "Nothing has been told yet.", pal.dim),
                         self.inner.topleft)
            return
        fonts = self._fonts()
        colours = {"title": pal.accent, "text": pal.text, "choice": pal.dim, "gap": pal.text}
        inner = self.inner
        clip = surface.get_clip()
        surface.set_clip(inner)
        y = inner.y - self.scroll
        for text, style, indent in self.lines:
            height = fonts[style].get_linesize()
            if y + height >= inner.y and text:
                surface.blit(ctx.text.render(fonts[style], text, colours[style]), (inner.x + indent, y))
            y += height
            if y > inner.bottom:
                break
        surface.set_clip(clip)
        if self.max_scroll > 0:   # a scroll bar
            track = pygame.Rect(self.rect.right - theme.px(14), inner.y, theme.px(4), inner.height)
            knob_h = max(theme.px(20), inner.height * inner.height // max(1, self.content_height))
            knob_y = inner.y + (inner.height - knob_h) * self.scroll // max(1, self.max_scroll)
            surface.blit(panel(track.size, (255, 255, 255, 40), theme.px(2)), track)
            surface.blit(panel((track.width, knob_h), pal.accent + (200,), theme.px(2)), (track.x, knob_y))
