"""Settings, on two pages. Display: text speed, text size, high contrast, fullscreen,
auto-advance and its pace, and whether the world reads how you play (the player model). Sound: reading the narration aloud (self-voicing, an accessibility
setting as in Ren'Py), the music's, the voice's and the effects' volumes, and sound on or off (U anywhere in
the story).

Each change applies at once and is written to the user config (engine.config.save_user_settings
through App.set_display, App.set_audio and App.set_player_model); a sample line below shows the text at the chosen size
and speed. Up/Down pick a row, Left/Right (or a click on the arrows) change it, Enter toggles,
Tab (or a click on a page's name) turns the page; Esc or O returns (O opens it from the story, as
does the game menu).
"""

from __future__ import annotations

import pygame

from game.screens.base import Screen
from game.ui.render import panel
from game.ui.widgets import Button, TextBox

SPEEDS = [(20, "slow"), (40, "relaxed"), (60, "normal"), (120, "fast"), (300, "very fast"),
          (0, "instant")]
AUTO_SPEEDS = [(0.5, "slow"), (0.75, "relaxed"), (1.0, "normal"), (1.5, "brisk"), (2.0, "fast"),
               (3.0, "very fast")]   # auto-advance pace: a multiple of the normal reading time
SIZES = [16, 18, 20, 22, 24, 28, 32, 36, 40]
VOLUMES = [round(step / 10, 1) for step in range(11)]
PAGES = {"Display": ["text_speed", "font_size", "high_contrast", "fullscreen", "auto_advance",
                     "auto_advance_speed", "player_model"],
         "Sound": ["read_aloud", "music_volume", "voice_volume", "effects_volume", "muted"]}
AUDIO_ROWS = set(PAGES["Sound"])
VOLUME_ROWS = ("music_volume", "voice_volume", "effects_volume")
NAMES = {"text_speed": "Text speed", "font_size": "Text size", "high_contrast": "High contrast",
         "fullscreen": "Fullscreen", "auto_advance": "Auto-advance",
         "auto_advance_speed": "Auto-advance pace", "read_aloud": "Read aloud (self-voicing)",
         "music_volume": "Music volume", "voice_volume": "Voice volume",
         "effects_volume": "Effects volume", "muted": "Sound (U)",
         "player_model": "The world reads you"}
SAMPLE = ("The lantern swings on its hook, and the harbour below fills with a light that was "
          "not there a moment ago. Somewhere a bell begins to ring.")


class SettingsScreen(Screen):
    overlay = True

    def tint(self, palette):
        return palette.background + (255,)

    def __init__(self, app):
        super().__init__(app)
        self.index = 0
        self.page = "Display"
        self.rows = PAGES[self.page]
        self.names = NAMES
        self.tabs = {name: Button(name, lambda n=name: self.turn_to(n)) for name in PAGES}
        self.arrows: dict[str, tuple[Button, Button]] = {
            row: (Button("<", lambda r=row: self.change(r, -1)),
                  Button(">", lambda r=row: self.change(r, 1)))
            for rows in PAGES.values() for row in rows}
        self.row_rects: dict[str, pygame.Rect] = {}
        self.close = Button("Back", app.pop, "Esc")
        self.sample = TextBox()
        self.sample.set_text(SAMPLE)
        self._loop = 0.0

    def turn_to(self, page: str) -> None:
        """Show another page of settings."""
        if page != self.page:
            self.page, self.rows, self.index = page, PAGES[page], 0
            self.layout(self.app.surface.get_size())

    def _settings(self, row: str):
        if row == "player_model":
            return self.app.config.game
        return self.app.config.audio if row in AUDIO_ROWS else self.app.config.display

    def value_text(self, row: str) -> str:
        value = getattr(self._settings(row), row)
        if row in VOLUME_ROWS:
            return f"{round(value * 100)}%" if value else "off"
        if row == "muted":
            return "off (muted)" if value else "on"
        if row == "text_speed":
            name = next((n for v, n in SPEEDS if v == value), "custom")
            return f"{name} ({value}/s)" if value else "instant"
        if row == "font_size":
            return f"{value} pt"
        if row == "auto_advance_speed":
            name = next((n for v, n in AUTO_SPEEDS if v == value), "custom")
            return f"{name} (\u00d7{value:g})"
        return "on" if value else "off"

    def change(self, row: str, step: int) -> None:
        """Move a setting one notch (booleans flip) and apply it now."""
        value = getattr(self._settings(row), row)
        if row == "player_model":
            self.app.set_player_model(not value)
            return
        if row in AUDIO_ROWS:
            if row in VOLUME_ROWS:
                position = min(range(len(VOLUMES)), key=lambda i: abs(VOLUMES[i] - value))
                new = VOLUMES[max(0, min(len(VOLUMES) - 1, position + step))]
            else:
                new = not value
            if new != value:
                self.app.set_audio(**{row: new})
            return
        if row == "text_speed":
            values = [v for v, _ in SPEEDS]
            position = min(range(len(values)), key=lambda i: abs(values[i] - value) if values[i] else 1e9) \
                if value not in values else values.index(value)
            new = values[max(0, min(len(values) - 1, position + step))]
        elif row == "font_size":
            position = min(range(len(SIZES)), key=lambda i: abs(SIZES[i] - value))
            new = SIZES[max(0, min(len(SIZES) - 1, position + step))]
        elif row == "auto_advance_speed":
            paces = [v for v, _ in AUTO_SPEEDS]
            position = min(range(len(paces)), key=lambda i: abs(paces[i] - value))
            new = paces[max(0, min(len(paces) - 1, position + step))]
        else:
            new = not value
        if new != value:
            self.app.set_display(**{row: new})
            self.sample.set_text("")
            self.sample.set_text(SAMPLE)
            self._loop = 0.0

    def handle(self, event) -> None:
        if self.close.handle(event):
            return
        for tab in self.tabs.values():
            if tab.handle(event):
                return
        for row in self.rows:
            less, more = self.arrows[row]
            if less.handle(event) or more.handle(event):
                self.index = self.rows.index(row)
                return
        if event.type == pygame.MOUSEMOTION:
            for row, rect in self.row_rects.items():
                if rect.collidepoint(event.pos):
                    self.index = self.rows.index(row)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            for row, rect in self.row_rects.items():
                if rect.collidepoint(event.pos) and row not in (
                        "text_speed", "font_size", "auto_advance_speed", *VOLUME_ROWS):
                    self.change(row, 1)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 3:
            self.app.pop()
        elif event.type == pygame.KEYDOWN:
            key, row = event.key, self.rows[self.index]
            if key in (pygame.K_ESCAPE, pygame.K_o):
                self.app.pop()
            elif key == pygame.K_TAB:
                names = list(PAGES)
                self.turn_to(names[(names.index(self.page) + 1) % len(names)])
            elif key == pygame.K_UP:
                self.index = (self.index - 1) % len(self.rows)
            elif key == pygame.K_DOWN:
                self.index = (self.index + 1) % len(self.rows)
            elif key == pygame.K_LEFT:
                self.change(row, -1)
            elif key in (pygame.K_RIGHT, pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE):
                self.change(row, 1)

    def layout(self, size) -> None:
        theme = self.app.theme
        width = min(size[0] - theme.px(120), theme.px(900))
        left = (size[0] - width) // 2
        row_h = theme.ui_font().get_linesize() + theme.px(20)
        y = theme.px(120)
        small = row_h - theme.px(12)
        self.row_rects = {}
        tab_h = theme.ui_font(0.8).get_linesize() + theme.px(10)
        right = left + width
        for name in reversed(list(PAGES)):
            tab = self.tabs[name]
            tab_w = max(theme.px(110), tab.natural_width(self.app.ctx))
            tab.rect = pygame.Rect(right - tab_w, theme.px(40), tab_w, tab_h)
            right -= tab_w + theme.px(8)
        for row in self.rows:
            rect = pygame.Rect(left, y, width, row_h)
            self.row_rects[row] = rect
            less, more = self.arrows[row]
            more.rect = pygame.Rect(rect.right - theme.px(10) - small, rect.centery - small // 2, small, small)
            less.rect = pygame.Rect(rect.x + width // 2, more.rect.y, small, small)
            y += row_h + theme.px(8)
        self.sample_rect = pygame.Rect(left + theme.px(20), y + theme.px(24), width - theme.px(40),
                                       size[1] - y - theme.px(130))
        self.close.rect = pygame.Rect(left, size[1] - theme.px(16) - row_h,
                                      max(theme.px(150), self.close.natural_width(self.app.ctx)),
                                      row_h - theme.px(6))

    def animating(self) -> bool:
        return True   # the sample text types itself out, over and over

    def update(self, dt: float) -> None:
        font = self.app.theme.font("text")
        self.sample.layout(self.sample_rect, font, round(font.get_linesize() * 1.12), self.app.text)
        self.sample.update(dt, self.app.config.display.text_speed)
        if self.sample.at_end:
            self._loop += dt
            if self._loop > 2.0:
                self.sample.page, self.sample.shown, self._loop = 0, 0.0, 0.0

    def draw(self, surface: pygame.Surface) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        first = self.row_rects[self.rows[0]]
        surface.blit(ctx.text.render(theme.font("title", 30), "Settings", pal.accent),
                     (first.x, theme.px(40)))
        surface.blit(ctx.text.render(theme.ui_font(0.66),
                                     "Up/Down choose  ·  Left/Right change  ·  Tab: next page  ·  "
                                     "saved to your config",
                                     pal.dim), (first.x + theme.px(2), theme.px(84)))
        for name, tab in self.tabs.items():
            tab.draw(surface, ctx, theme.ui_font(0.8))
            if name == self.page:
                pygame.draw.rect(surface, pal.accent, (tab.rect.x, tab.rect.bottom + theme.px(2),
                                                      tab.rect.width, max(2, theme.px(3))))
        font = theme.ui_font()
        for i, row in enumerate(self.rows):
            rect, lit = self.row_rects[row], i == self.index
            surface.blit(panel(rect.size, pal.button_hover if lit else pal.button, theme.px(8),
                               pal.accent + (255,) if lit else pal.button_edge), rect)
            colour = (pal.accent_text if theme.high_contrast else (255, 240, 214)) if lit else pal.text
            name = ctx.text.render(font, self.names[row], colour)
            surface.blit(name, (rect.x + theme.px(18), rect.centery - name.get_height() // 2))
            less, more = self.arrows[row]
            room = more.rect.x - less.rect.right - theme.px(8)
            value = ctx.text.render(font, ctx.text.fit(font, self.value_text(row), room), colour)
            x = less.rect.right + (more.rect.x - less.rect.right - value.get_width()) // 2
            surface.blit(value, (x, rect.centery - value.get_height() // 2))
            less.draw(surface, ctx, theme.ui_font(0.8))
            more.draw(surface, ctx, theme.ui_font(0.8))
        label = ctx.text.render(theme.ui_font(0.62), "sample", pal.dim)
        surface.blit(label, (self.sample_rect.x, self.sample_rect.y - label.get_height() - theme.px(4)))
        text_font = theme.font("text")
        self.sample.layout(self.sample_rect, text_font, round(text_font.get_linesize() * 1.12), app.text)
        self.sample.draw(surface, ctx, text_font, round(text_font.get_linesize() * 1.12), pal.text)
        self.close.draw(surface, ctx)
