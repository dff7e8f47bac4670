"""Widgets: buttons and menus, a text field and progress bars.

The typewriter text box lives in textbox.py and the toasts in toasts.py, the drawing context Ctx
in theme.py (all re-exported here).

Widgets hold layout and input state only; they draw with the Theme's fonts through the shared
TextCache (so unchanged text is never re-rendered) and call back into screens for actions.
Every widget works with the mouse and the keyboard. No engine calls, no file I/O.
"""

from __future__ import annotations

import math
from typing import Callable

import pygame

from game.ui.render import panel
from game.ui.textbox import TextBox
from game.ui.theme import Ctx  # Ctx is re-exported: screens take it from here
from game.ui.toasts import Toast, Toasts


# -- buttons --------------------------------------------------------------------------------
class Button:
    """A clickable label. `selected` is the keyboard highlight; hover follows the mouse."""

    def __init__(self, label: str, action: Callable[[], None] | None = None, hint: str = "",
                 enabled: bool = True, align: str = "center"):
        self.label = label
        self.action = action
        self.hint = hint            # the hotkey shown at the right edge
        self.enabled = enabled
        self.align = align
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.hover = False
        self.selected = False

    @property
    def lit(self) -> bool:
        return self.enabled and (self.hover or self.selected)

    def handle(self, event: pygame.event.Event) -> bool:
        """Track hover; run the action on a left click inside. True when the event was used."""
        if event.type == pygame.MOUSEMOTION:
            self.hover = self.rect.collidepoint(event.pos)
            return False
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 \
                and self.rect.collidepoint(event.pos):
            self.press()
            return True
        return False

    def press(self) -> None:
        if self.enabled and self.action is not None:
            self.action()

    def natural_width(self, ctx: "Ctx", font: pygame.font.Font | None = None) -> int:
        """The width that shows the whole label and its hint."""
        theme = ctx.theme
        font = font or theme.ui_font()
        hint = (ctx.text.width(theme.ui_font(0.62, "bold"), self.hint) + theme.px(10)
                if self.hint else 0)
        return ctx.text.width(font, self.label) + hint + 2 * theme.px(14) + theme.px(4)

    def draw(self, surface: pygame.Surface, ctx: Ctx, font: pygame.font.Font | None = None,
             flat: bool = False) -> None:
        pal, theme = ctx.theme.palette, ctx.theme
        font = font or theme.ui_font()
        radius = theme.px(6)
        if not flat or self.lit:
            fill = pal.button_hover if self.lit else pal.button
            edge = pal.accent + (255,) if self.lit else pal.button_edge
            surface.blit(panel(self.rect.size, fill, radius, edge,
                               max(1, theme.px(1.5 if self.lit else 1))), self.rect)
        if not self.enabled:
            colour = pal.disabled
        elif self.lit:
            colour = pal.accent_text if ctx.theme.high_contrast else (255, 240, 214)
        else:
            colour = pal.text
        pad = theme.px(14)
        hint_width = (ctx.text.width(theme.ui_font(0.62, "bold"), self.hint) + theme.px(10)
                      if self.hint else 0)
        room = (self.rect.width - 2 * pad - hint_width if self.align == "left" or self.hint
                else self.rect.width - theme.px(6))
        text = self.label if len(self.label) <= 2 else ctx.text.fit(font, self.label, max(1, room))
        label = ctx.text.render(font, text, colour)
        if self.align == "left":
            x = self.rect.x + pad
        elif self.hint:           # centred in the room the hint leaves
            x = self.rect.x + pad + max(0, (room - label.get_width()) // 2)
        else:
            x = self.rect.centerx - label.get_width() // 2
        hint_surface = None
        if self.hint:
            hint_font = theme.ui_font(0.62, "bold")
            hint_colour = colour if self.lit else pal.dim
            hint_surface = ctx.text.render(hint_font, self.hint, hint_colour)
            if self.align == "left":
                x = self.rect.x + pad + theme.px(10) + hint_surface.get_width()
        clip = surface.get_clip()
        surface.set_clip(self.rect.inflate(-theme.px(4), 0))
        surface.blit(label, (x, self.rect.centery - label.get_height() // 2))
        if hint_surface is not None:
            if self.align == "left":
                hx = self.rect.x + pad
            else:
                hx = self.rect.right - pad // 2 - hint_surface.get_width()
            surface.blit(hint_surface, (hx, self.rect.centery - hint_surface.get_height() // 2))
        surface.set_clip(clip)


class Menu:
    """A column (or row) of buttons with one keyboard selection: arrows move it, Enter presses,
    digits 1-9 press directly when `numbers` is set. The mouse moves the selection too."""

    def __init__(self, buttons: list[Button] | None = None, numbers: bool = False,
                 horizontal: bool = False):
        self.buttons = buttons or []
        self.numbers = numbers
        self.horizontal = horizontal
        self.index = -1    # -1: nothing selected by keyboard yet

    def set_buttons(self, buttons: list[Button], keep: bool = False) -> None:
        self.buttons = buttons
        if not keep or self.index >= len(buttons):
            self.index = -1
        self._sync()

    def _sync(self) -> None:
        for i, button in enumerate(self.buttons):
            button.selected = i == self.index

    def select(self, index: int) -> None:
        self.index = index if 0 <= index < len(self.buttons) else -1
        self._sync()

    def move(self, step: int) -> None:
        enabled = [i for i, b in enumerate(self.buttons) if b.enabled]
        if not enabled:
            return
        if self.index not in enabled:
            self.select(enabled[0] if step > 0 else enabled[-1])
            return
        position = (enabled.index(self.index) + step) % len(enabled)
        self.select(enabled[position])

    def handle(self, event: pygame.event.Event) -> bool:
        if event.type == pygame.MOUSEMOTION:
            for i, button in enumerate(self.buttons):
                button.handle(event)
                if button.hover and button.enabled:
                    self.select(i)
            return False
        if event.type == pygame.MOUSEBUTTONDOWN:
            return any(button.handle(event) for button in list(self.buttons))
        if event.type == pygame.KEYDOWN:
            back, forward = ((pygame.K_LEFT, pygame.K_RIGHT) if self.horizontal
                             else (pygame.K_UP, pygame.K_DOWN))
            if event.key == back:
                self.move(-1)
                return True
            if event.key == forward:
                self.move(1)
                return True
            if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER) and 0 <= self.index < len(self.buttons):
                self.buttons[self.index].press()
                return True
            if self.numbers and pygame.K_1 <= event.key <= pygame.K_9:
                number = event.key - pygame.K_1
                if number < len(self.buttons) and self.buttons[number].enabled:
                    self.select(number)
                    self.buttons[number].press()
                    return True
        return False

    def draw(self, surface: pygame.Surface, ctx: Ctx, font=None, flat: bool = False) -> None:
        for button in self.buttons:
            button.draw(surface, ctx, font, flat)


# -- text field -----------------------------------------------------------------------------
HOTKEY_MODS = pygame.KMOD_CTRL | pygame.KMOD_ALT | pygame.KMOD_META   # keys held for a hotkey


def is_paste(event: pygame.event.Event) -> bool:
    """Ctrl+V (Cmd+V on a Mac) or Shift+Insert."""
    return event.type == pygame.KEYDOWN and (
        (event.key == pygame.K_v and event.mod & (pygame.KMOD_CTRL | pygame.KMOD_META))
        or (event.key == pygame.K_INSERT and event.mod & pygame.KMOD_SHIFT))


def clipboard_text() -> str:
    """The clipboard's text through pygame (SDL's clipboard: no scrap.init needed), or ''."""
    try:
        return pygame.scrap.get_text() or ""
    except (pygame.error, AttributeError):
        return ""


class TextInput:
    """A one-line field. Focus with a click (or the screen's key); Enter submits; Esc leaves.

    Ctrl+V and Shift+Insert paste (line breaks become spaces). Text stops at `max_chars`, and a
    counter shows how much is used once the text is long, so nothing is ever cut silently. Keys
    held with Ctrl, Alt or Meta are not taken (they are the screen's hotkeys), except paste and
    the editing keys.
    """

    def __init__(self, placeholder: str = "", on_submit: Callable[[str], None] | None = None,
                 max_chars: int = 300):
        self.placeholder = placeholder
        self.on_submit = on_submit
        self.max_chars = max_chars
        self.text = ""
        self.cursor = 0
        self.focused = False
        self.refused = 0          # characters left out at the limit by the last typing or paste
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.hover = False
        self._blink = 0.0

    def focus(self, on: bool = True) -> None:
        self.focused = on
        self._blink = 0.0

    def insert(self, text: str) -> None:
        """Put text at the cursor, as much as fits (the rest is counted in `refused`)."""
        clean = "".join(ch for ch in " ".join(text.split("\n")).replace("\t", " ")
                        if ch.isprintable())
        room = max(0, self.max_chars - len(self.text))
        self.refused = max(0, len(clean) - room)
        clean = clean[:room]
        self.text = self.text[:self.cursor] + clean + self.text[self.cursor:]
        self.cursor += len(clean)

    def paste(self) -> None:
        """Insert the clipboard's text, its lines joined by spaces."""
        text = " ".join(clipboard_text().split())
        if text:
            self.insert(text)

    @property
    def counting(self) -> bool:
        """Whether the counter shows: the text is long, or some was refused."""
        return len(self.text) >= self.max_chars // 3 or self.refused > 0

    def handle(self, event: pygame.event.Event) -> bool:
        if event.type == pygame.MOUSEMOTION:
            self.hover = self.rect.collidepoint(event.pos)
            return False
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            inside = self.rect.collidepoint(event.pos)
            self.focus(inside)
            return inside
        if not self.focused:
            return False
        if event.type == pygame.TEXTINPUT:
            self.insert(event.text)
            return True
        if event.type != pygame.KEYDOWN:
            return False
        key, word = event.key, event.mod & pygame.KMOD_CTRL
        if is_paste(event):
            self.paste()
            return True
        if event.mod & HOTKEY_MODS and key not in (pygame.K_BACKSPACE, pygame.K_DELETE,
                                                   pygame.K_LEFT, pygame.K_RIGHT):
            return False          # a hotkey: the screen handles it
        self.refused = 0
        if key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            text = self.text.strip()
            if text and self.on_submit is not None:
                self.on_submit(text)
            return True
        if key == pygame.K_ESCAPE:
            self.focus(False)
        elif key == pygame.K_BACKSPACE and self.cursor > 0:
            start = self._word_start() if word else self.cursor - 1
            self.text = self.text[:start] + self.text[self.cursor:]
            self.cursor = start
        elif key == pygame.K_DELETE:
            self.text = self.text[:self.cursor] + self.text[self.cursor + 1:]
        elif key == pygame.K_LEFT:
            self.cursor = self._word_start() if word else max(0, self.cursor - 1)
        elif key == pygame.K_RIGHT:
            self.cursor = self._word_end() if word else min(len(self.text), self.cursor + 1)
        elif key == pygame.K_HOME:
            self.cursor = 0
        elif key == pygame.K_END:
            self.cursor = len(self.text)
        return True   # a focused field swallows every plain key, so hotkeys don't fire while typing

    def _word_start(self) -> int:
        i = self.cursor
        while i > 0 and self.text[i - 1] == " ":
            i -= 1
        while i > 0 and self.text[i - 1] != " ":
            i -= 1
        return i

    def _word_end(self) -> int:
        i, n = self.cursor, len(self.text)
        while i < n and self.text[i] == " ":
            i += 1
        while i < n and self.text[i] != " ":
            i += 1
        return i

    def clear(self) -> None:
        self.text, self.cursor, self.refused = "", 0, 0

    def update(self, dt: float) -> None:
        self._blink = (self._blink + dt) % 1.0

    def draw(self, surface: pygame.Surface, ctx: Ctx, font: pygame.font.Font | None = None) -> None:
        theme, pal = ctx.theme, ctx.theme.palette
        font = font or theme.ui_font(0.86, "italic")
        edge = pal.accent + (255,) if self.focused else (pal.accent + (140,) if self.hover
                                                          else pal.button_edge)
        surface.blit(panel(self.rect.size, pal.button, theme.px(6), edge,
                           max(1, theme.px(1.5 if self.focused else 1))), self.rect)
        pad = theme.px(12)
        inner = self.rect.inflate(-2 * pad, 0)
        if self.counting:        # "212 / 300" at the right, red at the limit
            full = len(self.text) >= self.max_chars
            colour = (255, 140, 140) if full else (pal.accent if len(self.text) >= self.max_chars
                                                   * 0.9 else pal.dim)
            note = f"{len(self.text)} / {self.max_chars}" + ("  full" if full else "")
            count = ctx.text.render(theme.ui_font(0.6, "bold"), note, colour)
            surface.blit(count, (inner.right - count.get_width(),
                                 self.rect.centery - count.get_height() // 2))
            inner.width -= count.get_width() + pad
        if self.text:
            label = ctx.text.render(font, self.text, pal.text)
            cursor_x = ctx.text.width(font, self.text[:self.cursor])
        else:
            label = ctx.text.render(font, self.placeholder, pal.dim)
            cursor_x = 0
        shift = max(0, cursor_x - inner.width + pad)   # keep the cursor in view
        clip = surface.get_clip()
        surface.set_clip(inner.clip(clip) if clip else inner)
        y = self.rect.centery - label.get_height() // 2
        surface.blit(label, (inner.x - shift, y))
        if self.focused and self._blink < 0.6:
            x = inner.x - shift + cursor_x
            pygame.draw.line(surface, pal.accent, (x, y + 2), (x, y + label.get_height() - 2),
                             max(1, theme.px(2)))
        surface.set_clip(clip)


# -- progress -------------------------------------------------------------------------------
def progress_bar(surface: pygame.Surface, ctx: Ctx, rect: pygame.Rect, fraction: float) -> None:
    """A thin bar; fraction < 0 draws an indeterminate sweep."""
    pal = ctx.theme.palette
    radius = rect.height // 2
    surface.blit(panel(rect.size, (0, 0, 0, 150), radius), rect)
    if fraction < 0:
        t = (pygame.time.get_ticks() / 1200.0) % 1.0
        width = rect.width // 4
        x = rect.x + int((rect.width + width) * t) - width
        fill = pygame.Rect(max(rect.x, x), rect.y, min(width, rect.right - max(rect.x, x)),
                           rect.height)
    else:
        fill = pygame.Rect(rect.x, rect.y, max(rect.height, int(rect.width * min(1.0, fraction))),
                           rect.height)
    if fill.width > 0:
        pygame.draw.rect(surface, pal.accent, fill, border_radius=radius)


def pulse_dots(surface: pygame.Surface, ctx: Ctx, center: tuple[int, int], seconds: float) -> None:
    """Three pulsing dots: something is being written."""
    pal = ctx.theme.palette
    gap = ctx.theme.px(12)
    for i in range(3):
        phase = (math.sin(seconds * 5.0 - i * 0.9) + 1) / 2
        radius = max(2, round(ctx.theme.px(3) + ctx.theme.px(2) * phase))
        pygame.draw.circle(surface, pal.accent, (center[0] + (i - 1) * gap, center[1]), radius)


__all__ = ["Ctx", "Button", "Menu", "TextBox", "TextInput", "clipboard_text", "is_paste", "Toast", "Toasts", "progress_bar",
           "pulse_dots"]
