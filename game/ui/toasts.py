"""Toasts: short messages stacked at the top right of the window, for notices and errors.

Every message pushed is shown: at most LIMIT are on screen at once and the others wait their turn
in order (so a burst, such as a hot reload's problems, is never cut short). A message that is
already showing or waiting is not shown twice; its time is renewed instead. Errors stay longer
than notices, and a click dismisses a toast. Draws with the theme; no engine calls, no file I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import pygame

from game.ui.render import panel

NOTICE_SECONDS = 3.5
ERROR_SECONDS = 9.0
MAX_WAITING = 30     # beyond this, waiting messages are counted and summed up in one toast


@dataclass
class Toast:
    message: str
    kind: str = "notice"     # "notice" or "error"
    left: float = 4.0        # seconds still shown
    rect: pygame.Rect | None = None


class Toasts:
    """The toasts on screen and those waiting for room."""

    LIMIT = 4

    def __init__(self):
        self.items: list[Toast] = []
        self.waiting: deque[Toast] = deque()
        self.overflow = 0          # messages dropped because too many were waiting

    def push(self, message: str, kind: str = "notice") -> None:
        """Show a message now, or as soon as there is room. A repeat renews the one showing."""
        seconds = ERROR_SECONDS if kind == "error" else NOTICE_SECONDS
        for toast in list(self.items) + list(self.waiting):
            if toast.message == message:
                toast.left = max(toast.left, seconds)
                if kind == "error":
                    toast.kind = "error"
                return
        toast = Toast(message, kind, seconds)
        if len(self.items) < self.LIMIT and not self.waiting:
            self.items.append(toast)
        elif len(self.waiting) < MAX_WAITING:
            self.waiting.append(toast)
        else:
            self.overflow += 1

    @property
    def all_messages(self) -> list[str]:
        """What is showing and what waits, in order (for tests and logs)."""
        return [t.message for t in self.items] + [t.message for t in self.waiting]

    def update(self, dt: float) -> None:
        for toast in self.items:
            toast.left -= dt
        self.items = [t for t in self.items if t.left > 0]
        while len(self.items) < self.LIMIT and self.waiting:
            self.items.append(self.waiting.popleft())
        if self.overflow and len(self.items) < self.LIMIT:
            self.items.append(Toast(f"...and {self.overflow} more messages.", "notice",
                                    NOTICE_SECONDS))
            self.overflow = 0

    def handle(self, event: pygame.event.Event) -> bool:
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            for toast in self.items:
                if toast.rect is not None and toast.rect.collidepoint(event.pos):
                    self.items.remove(toast)
                    return True
        return False

    def draw(self, surface: pygame.Surface, ctx) -> None:
        """Draw the toasts showing (ctx: widgets.Ctx, the theme and the text cache)."""
        theme, pal = ctx.theme, ctx.theme.palette
        font = theme.ui_font(0.78)
        width = min(surface.get_width() - theme.px(40), theme.px(520))
        pad = theme.px(12)
        y = theme.px(56)
        line_height = font.get_linesize()
        for toast in self.items:
            lines = ctx.text.wrap(font, toast.message, width - 2 * pad)[:6]
            height = len(lines) * line_height + 2 * pad
            rect = pygame.Rect(surface.get_width() - width - theme.px(20), y, width, height)
            toast.rect = rect
            fill = pal.error if toast.kind == "error" else pal.notice
            alpha = max(0.0, min(1.0, toast.left / 0.4))
            colour = fill[:3] + (round(fill[3] * alpha),)
            surface.blit(panel(rect.size, colour, theme.px(8)), rect)
            for i, line in enumerate(lines):
                surface.blit(ctx.text.render(font, line, (255, 255, 255)),
                             (rect.x + pad, rect.y + pad + i * line_height))
            y += height + theme.px(8)


__all__ = ["Toast", "Toasts"]
