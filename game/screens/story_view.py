"""How the story screen looks: its layout at any window size, and drawing it each frame.

The picture, the shading and the empty text box are composed into one surface that is reused
until the picture, the window or the theme changes (during a crossfade they are drawn directly).
On top: the scene title and its versions, the painter's progress, the narration, the "story
continues" indicator (with the narrator's time to first word and time so far), the quick menu
and the choices. Mixed into StoryScreen; no input here.
"""

from __future__ import annotations

import time

import pygame

from engine.graph import READY
from game.render import crossfade, gradient, panel
from game.widgets import Button, progress_bar, pulse_dots

TEXT_LINES = 5           # narration lines in the box at the default size


class StoryView:
    """Layout and drawing for StoryScreen (which holds the state and handles input)."""

    def layout(self, size: tuple[int, int]) -> None:
        theme = self.app.theme
        width, height = size
        font = theme.font("text")
        line_height = round(font.get_linesize() * 1.12)
        pad = theme.px(22)
        quick_height = theme.ui_font(0.66).get_linesize() + theme.px(8)
        lines = max(2, min(TEXT_LINES, int((height * 0.42 - 2 * pad - quick_height) // line_height)))
        text_width = min(width - 2 * theme.px(36) - 2 * pad, round(font.size("n")[0] * 88))
        box_width = text_width + 2 * pad
        box_height = lines * line_height + 2 * pad + quick_height
        self.box_rect = pygame.Rect((width - box_width) // 2, height - box_height - theme.px(14),
                                    box_width, box_height)
        self.text_rect = pygame.Rect(self.box_rect.x + pad, self.box_rect.y + pad,
                                     text_width, lines * line_height)
        self.line_height = line_height
        self.box.layout(self.text_rect, font, line_height, self.app.text)
        # the quick menu along the bottom of the box
        quick_font = theme.ui_font(0.66)
        gap = theme.px(4)
        widths = [self.app.text.width(quick_font, b.label) + theme.px(14) for b in self.quick.buttons]
        x = self.box_rect.centerx - (sum(widths) + gap * (len(widths) - 1)) // 2
        y = self.box_rect.bottom - quick_height - theme.px(4)
        for button, w in zip(self.quick.buttons, widths):
            button.rect = pygame.Rect(x, y, w, quick_height)
            x += w + gap
        # choices, centred over the picture, with the free-text field below them
        choice_font = theme.ui_font(0.9)
        button_height = choice_font.get_linesize() + theme.px(18)
        button_width = min(round(width * 0.64), theme.px(820))
        spacing = theme.px(10)
        rows = len(self.choices.buttons) + (1 if self._wants_field() else 0)
        total = rows * button_height + (rows - 1) * spacing
        top_limit = theme.px(64)
        bottom = self.box_rect.top - theme.px(18)
        y = max(top_limit, top_limit + (bottom - top_limit - total) // 2)
        x = (width - button_width) // 2
        for button in self.choices.buttons:
            button.rect = pygame.Rect(x, y, button_width, button_height)
            y += button_height + spacing
        self.action.rect = pygame.Rect(x, y, button_width, button_height)
        # version arrows next to the title
        small = theme.px(26)
        self.versions[0].rect = pygame.Rect(0, theme.px(14), small, small)
        self.versions[1].rect = pygame.Rect(0, theme.px(14), small, small)

    def _layout_box(self) -> None:
        """Re-wrap the narration if it changed (a no-op when nothing did)."""
        self.box.layout(self.text_rect, self.app.theme.font("text"), self.line_height,
                        self.app.text)

    def _wants_field(self) -> bool:
        session = self.session
        return session is not None and session.scene().status == READY and not session.ended

    def _version_buttons(self) -> list[Button]:
        session = self.session
        if session is None or len(session.scene().versions) < 2 or session.waiting:
            return []
        return self.versions

    def draw(self, surface: pygame.Surface) -> None:
        self.sync()
        app, theme = self.app, self.app.theme
        pal = theme.palette
        # the picture, shading and empty text box change rarely: they are composed once, and a
        # new picture crossfades in as a whole new backdrop over the old one
        key = (app.image.key, id(app.image.current), surface.get_size(), tuple(self.box_rect),
               theme.high_contrast)
        if key != self._backdrop_key:
            self._backdrop_old = self._backdrop if app.image.fading else None
            self._backdrop = pygame.Surface(surface.get_size()).convert()
            self._draw_backdrop(self._backdrop)
            self._backdrop_key = key
        if app.image.fading and self._backdrop_old is not None \
                and self._backdrop_old.get_size() == self._backdrop.get_size():
            crossfade(surface, self._backdrop_old, self._backdrop, app.image.alpha)
        else:
            self._backdrop_old = None
            surface.blit(self._backdrop, (0, 0))
        self._draw_title(surface)
        self._draw_painting(surface)
        font = theme.font("text")
        self._layout_box()
        self.box.draw(surface, app.ctx, font, self.line_height, pal.text)
        self._draw_status(surface)
        self.quick.draw(surface, app.ctx, theme.ui_font(0.66), flat=True)
        if self.choices_visible:
            self.choices.draw(surface, app.ctx, theme.ui_font(0.9))
            if self._wants_field():
                self.action.draw(surface, app.ctx, theme.ui_font(0.84, "italic"))

    def _draw_backdrop(self, surface: pygame.Surface) -> None:
        """The picture (or a placeholder), the shading under the title and the text box panel."""
        app, theme = self.app, self.app.theme
        pal = theme.palette
        width, height = surface.get_size()
        if not app.image.draw(surface, fade=False):
            surface.blit(gradient((width, height), (20, 24, 40, 255), (6, 6, 12, 255)), (0, 0))
        surface.blit(gradient((width, theme.px(90)), (0, 0, 0, 170), (0, 0, 0, 0)), (0, 0))
        surface.blit(gradient((width, self.box_rect.height + theme.px(60)), (0, 0, 0, 0),
                              (0, 0, 0, 150)), (0, height - self.box_rect.height - theme.px(60)))
        surface.blit(panel(self.box_rect.size, pal.panel, theme.px(12), pal.panel_edge), self.box_rect)

    def _draw_title(self, surface: pygame.Surface) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        session = self.session
        x, y = theme.px(36), theme.px(16)
        if session is None:
            return
        scene = session.scene()
        title = scene.title if scene.current else (scene.label or session.world.title)
        title_surface = ctx.text.render(theme.font("title", theme.font_size * 1.05), title, pal.text)
        surface.blit(title_surface, (x, y))
        x += title_surface.get_width() + theme.px(14)
        buttons = self._version_buttons()
        if buttons:
            small = theme.ui_font(0.66)
            cy = y + title_surface.get_height() // 2
            buttons[0].rect.topleft = (x, cy - buttons[0].rect.height // 2)
            label = ctx.text.render(small, f"version {scene.active + 1} of {len(scene.versions)}",
                                    pal.dim)
            lx = buttons[0].rect.right + theme.px(6)
            buttons[1].rect.topleft = (lx + label.get_width() + theme.px(6), buttons[0].rect.y)
            buttons[0].draw(surface, ctx, small)
            surface.blit(label, (lx, cy - label.get_height() // 2))
            buttons[1].draw(surface, ctx, small)
        info = f"{session.world.title}  ·  turn {session.turn}"
        info_surface = ctx.text.render(theme.ui_font(0.66), info, pal.dim)
        surface.blit(info_surface, (surface.get_width() - theme.px(36) - info_surface.get_width(),
                                    y + theme.px(4)))

    def _draw_painting(self, surface: pygame.Surface) -> None:
        """While the painter works on this scene: a bar under the top-right corner."""
        session, theme, ctx = self.session, self.app.theme, self.app.ctx
        self._painting_shown = False
        if session is None or session.painter.id == "none":
            return
        scene = session.scene()
        if scene.status != READY or scene.id in self.failed_images:
            return
        key = scene.current.image_key
        if key and self.app.image.key == key:
            return
        self._painting_shown = True
        fraction = session.progress.get(scene.id, -1.0)
        label = ctx.text.render(theme.ui_font(0.62), "painting the scene", theme.palette.dim)
        right = surface.get_width() - theme.px(36)
        y = theme.px(44)
        surface.blit(label, (right - label.get_width(), y))
        bar = pygame.Rect(right - theme.px(160), y + label.get_height() + theme.px(4),
                          theme.px(160), theme.px(5))
        progress_bar(surface, ctx, bar, fraction)

    def status_message(self) -> str:
        """What the status line says while the story is being told: what is loading, or 'the
        story continues' with the narrator's pace, e.g. '... · first word 1.2 s · 6.3 s'."""
        if self.app.loading:
            return self.app.loading
        session = self.session
        timing = session.narration_timing() if session is not None else None
        if timing is None or timing.finished_at is not None:
            return "the story continues"
        return f"the story continues  ·  {timing.describe(time.monotonic())}"

    def _draw_status(self, surface: pygame.Surface) -> None:
        """'The story continues...' while the narrator writes; a page marker when more follows."""
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        waiting = self.session is None or self.session.waiting or bool(app.loading)
        if waiting:
            message = self.status_message()
            font = theme.ui_font(0.74, "italic")
            label = ctx.text.render(font, message, pal.dim)
            if not self.box.text:
                cx, cy = self.text_rect.center
                surface.blit(label, (cx - label.get_width() // 2, cy - label.get_height()))
                pulse_dots(surface, ctx, (cx, cy + theme.px(12)), app.seconds)
            else:
                x = self.box_rect.right - theme.px(22) - label.get_width() - theme.px(44)
                y = self.box_rect.y - label.get_height() - theme.px(8)
                surface.blit(panel((label.get_width() + theme.px(70), label.get_height() + theme.px(8)),
                                   pal.panel, theme.px(6)), (x - theme.px(10), y - theme.px(4)))
                surface.blit(label, (x, y))
                pulse_dots(surface, ctx, (x + label.get_width() + theme.px(26),
                                          y + label.get_height() // 2), app.seconds)
        elif self.box.page_done and not self.box.at_end:
            x, y = self.text_rect.right - theme.px(6), self.box_rect.bottom - theme.px(44)
            size = theme.px(7)
            pygame.draw.polygon(surface, pal.accent, [(x - size, y), (x + size, y), (x, y + size)])
