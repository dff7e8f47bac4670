"""The export screen: make a film, a book or a Twine story of the story being played.

Opens over the story with E or the quick menu's Export button. Each button starts an export in
the background (game.exports) and play goes on; while one runs, this screen shows its progress
and a Cancel button, and the story screen shows a small bar. Esc, E or a right click closes.
"""

from __future__ import annotations

import pygame

from game.screens.base import Screen
from game.ui.render import panel
from game.ui.widgets import Button, progress_bar

KINDS = [("film", "Film", "an MP4 with pictures, subtitles and sound", "1"),
         ("book", "Book", "one HTML file and an EPUB, with the pictures", "2"),
         ("twee", "Twine story", "the whole story graph as Twee 3, for Twine", "3")]


class ExportScreen(Screen):
    overlay = True

    def tint(self, palette):
        return palette.background + (215,)

    def __init__(self, app):
        super().__init__(app)
        self.buttons = [Button(f"{label}  \u2014  {what}", (lambda k=kind: self.start(k)), key,
                               align="left") for kind, label, what, key in KINDS]
        self.cancel = Button("Cancel the export", self.app.exports.cancel, "C")
        self.close = Button("Back", app.pop, "Esc")
        self.rect = pygame.Rect(0, 0, 0, 0)

    def start(self, kind: str) -> None:
        self.app.exports.start(kind)

    def animating(self) -> bool:
        return self.app.exports.running      # the bar moves

    def handle(self, event) -> None:
        running = self.app.exports.running
        if self.close.handle(event) or (running and self.cancel.handle(event)):
            return
        if not running:
            for button in self.buttons:
                if button.handle(event):
                    return
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 3:
            self.app.pop()
        elif event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_ESCAPE, pygame.K_e):
                self.app.pop()
            elif running and event.key == pygame.K_c:
                self.app.exports.cancel()
            elif not running and event.unicode in ("1", "2", "3"):
                self.start(KINDS[int(event.unicode) - 1][0])

    def layout(self, size) -> None:
        theme = self.app.theme
        width = min(size[0] - theme.px(80), theme.px(820))
        height = theme.px(380)
        self.rect = pygame.Rect((size[0] - width) // 2, (size[1] - height) // 2, width, height)
        x, y = self.rect.x + theme.px(32), self.rect.y + theme.px(92)
        for button in self.buttons:
            button.rect = pygame.Rect(x, y, width - theme.px(64), theme.px(52))
            y += theme.px(62)
        self.cancel.rect = pygame.Rect(x, self.rect.y + theme.px(170), theme.px(300),
                                       theme.px(48))
        self.close.rect = pygame.Rect(self.rect.right - theme.px(32) - theme.px(160),
                                      self.rect.bottom - theme.px(64), theme.px(160),
                                      theme.px(44))

    def draw(self, surface) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        surface.blit(panel(self.rect.size, pal.panel, theme.px(10), pal.accent + (255,)),
                     self.rect)
        x = self.rect.x + theme.px(32)
        title = app.text.render(theme.ui_font(1.1, "bold"), "Export this story", pal.text)
        surface.blit(title, (x, self.rect.y + theme.px(22)))
        task = app.exports.task
        font = theme.ui_font(0.74)
        if task is None:
            note = f"Files go to {app.library.exports_dir}"
            surface.blit(app.text.render(theme.ui_font(0.62), note, pal.dim),
                         (x, self.rect.bottom - theme.px(52)))
            for button in self.buttons:
                button.draw(surface, ctx, font)
        else:
            line = f"Making the {task.label.lower()}: {task.what}"
            surface.blit(app.text.render(font, line[:90], pal.text), (x, self.rect.y + theme.px(96)))
            bar = pygame.Rect(x, self.rect.y + theme.px(136), self.rect.width - theme.px(64),
                              theme.px(8))
            progress_bar(surface, ctx, bar, task.fraction)
            self.cancel.draw(surface, ctx, font)
            surface.blit(app.text.render(theme.ui_font(0.62), "Play goes on while it is made: "
                                         "close this and keep reading.", pal.dim),
                         (x, self.rect.y + theme.px(236)))
        self.close.draw(surface, ctx, font)
