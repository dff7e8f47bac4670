"""How the story screen looks: its layout at any window size, and drawing it each frame.

The picture, the shading and the empty text box are composed into one surface that is reused
until the picture, the window or the theme changes (during a crossfade they are drawn directly).
On top: the scene title and its versions, the painter's progress, the narration, the "story
continues" indicator (with the narrator's time to first word and time so far), the quick menu
and the choices, or at an ending the closing card. The layout holds at every text size: the
choices get their room first, the box gives up lines, the quick menu wraps. Mixed into StoryScreen; no input here.
"""

from __future__ import annotations

import time

import pygame

from engine import SCENE_READY
from game.ui.render import crossfade, gradient, panel
from game.ui.widgets import Button, progress_bar, pulse_dots

TEXT_LINES = 5           # narration lines in the box at the default size


def _scenes_played(count: int) -> str:
    return f"{count} scene played" if count == 1 else f"{count} scenes played"


class StoryView:
    """Layout and drawing for StoryScreen (which holds the state and handles input)."""

    def layout(self, size: tuple[int, int]) -> None:
        """Place everything for this window and text size. The choices (or the ending card) get
        the room they need first: the narration box gives up lines (down to two) for them, and
        the quick menu wraps onto more rows when the text is large."""
        app, theme = self.app, self.app.theme
        width, height = size
        font = theme.font("text")
        line_height = round(font.get_linesize() * 1.12)
        pad = theme.px(22)
        text_width = min(width - 2 * theme.px(36) - 2 * pad, round(font.size("n")[0] * 88))
        box_width = text_width + 2 * pad
        # the quick menu along the bottom of the box, in as many rows as it needs
        quick_font = theme.ui_font(0.66)
        quick_height = quick_font.get_linesize() + theme.px(8)
        gap = theme.px(4)
        widths = [app.text.width(quick_font, b.label) + theme.px(14) for b in self.quick.buttons]
        rows: list[list[int]] = [[]]
        used = 0
        for index, w in enumerate(widths):
            if rows[-1] and used + gap + w > box_width - 2 * theme.px(8):
                rows.append([])
                used = 0
            used += (gap if rows[-1] else 0) + w
            rows[-1].append(index)
        quick_total = len(rows) * quick_height + (len(rows) - 1) * gap
        # what the choices need above the box
        choice_font = theme.ui_font(0.9)
        button_height = choice_font.get_linesize() + theme.px(18)
        spacing = theme.px(10)
        top_limit = theme.px(64) + (theme.font("title", theme.font_size * 1.05).get_linesize()
                                    - theme.px(30) if theme.font_size > 26 else 0)
        count = len(self.choices.buttons) + (1 if self._wants_field() else 0)
        card = self._card_height(button_height, spacing) if self.ending else 0
        needed = card or (count * button_height + max(0, count - 1) * spacing)
        most = int((height * 0.42 - 2 * pad - quick_total) // line_height)
        room_lines = int((height - theme.px(14) - 2 * pad - quick_total - theme.px(18)
                          - top_limit - needed) // line_height)
        lines = max(2, min(TEXT_LINES, most, room_lines))
        box_height = lines * line_height + 2 * pad + quick_total
        self.box_rect = pygame.Rect((width - box_width) // 2, height - box_height - theme.px(14),
                                    box_width, box_height)
        self.text_rect = pygame.Rect(self.box_rect.x + pad, self.box_rect.y + pad,
                                     text_width, lines * line_height)
        self.line_height = line_height
        self.box.layout(self.text_rect, font, line_height, app.text)
        y = self.box_rect.bottom - quick_total - theme.px(4)
        for row in rows:
            row_width = sum(widths[i] for i in row) + gap * (len(row) - 1)
            x = self.box_rect.centerx - row_width // 2
            for i in row:
                self.quick.buttons[i].rect = pygame.Rect(x, y, widths[i], quick_height)
                x += widths[i] + gap
            y += quick_height + gap
        # choices (or the ending card), centred over the picture, the action field below them
        bottom = self.box_rect.top - theme.px(18)
        if count and needed > bottom - top_limit:      # still too tall: tighter buttons
            spacing = theme.px(4)
            button_height = max(choice_font.get_linesize() + theme.px(4),
                                (bottom - top_limit - (count - 1) * spacing) // count)
            needed = count * button_height + (count - 1) * spacing
        button_width = min(max(round(width * 0.64), min(width - theme.px(48), theme.px(640))),
                           theme.px(820))
        x = (width - button_width) // 2
        y = max(top_limit, top_limit + (bottom - top_limit - needed) // 2)
        if self.ending:
            self.card_rect = pygame.Rect(x, y, button_width, needed)
            y = self.card_rect.bottom - self._card_buttons_height(button_height, spacing)
        for button in self.choices.buttons:
            button.rect = pygame.Rect(x + (theme.px(24) if self.ending else 0), y,
                                      button_width - (theme.px(48) if self.ending else 0),
                                      button_height)
            y += button_height + spacing
        self.action.rect = pygame.Rect(x, y, button_width, button_height)
        # version arrows next to the title
        small = theme.px(26)
        self.versions[0].rect = pygame.Rect(0, theme.px(14), small, small)
        self.versions[1].rect = pygame.Rect(0, theme.px(14), small, small)

    def _card_buttons_height(self, button_height: int, spacing: int) -> int:
        count = len(self.choices.buttons)
        return count * button_height + (count - 1) * spacing + self.app.theme.px(20)

    def _card_height(self, button_height: int, spacing: int) -> int:
        """The closing card: 'The End', the ending's name, the scenes played, three buttons."""
        theme = self.app.theme
        head = theme.font("title", theme.font_size * 1.3).get_linesize()
        name = theme.font("italic", theme.font_size * 1.0).get_linesize()
        info = theme.ui_font(0.74).get_linesize()
        return (theme.px(18) + head + name + info + theme.px(16)
                + self._card_buttons_height(button_height, spacing))

    def _layout_box(self) -> None:
        """Re-wrap the narration if it changed (a no-op when nothing did)."""
        self.box.layout(self.text_rect, self.app.theme.font("text"), self.line_height,
                        self.app.text)

    def _wants_field(self) -> bool:
        session = self.session
        return session is not None and session.scene().status == SCENE_READY and not session.ended

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
        self._draw_export(surface)
        font = theme.font("text")
        self._layout_box()
        self.box.draw(surface, app.ctx, font, self.line_height, pal.text)
        self._draw_status(surface)
        self.quick.draw(surface, app.ctx, theme.ui_font(0.66), flat=True)
        if self.choices_visible:
            if self.ending:
                self._draw_card(surface)
            self.choices.draw(surface, app.ctx, theme.ui_font(0.9))
            if self._wants_field():
                self.action.draw(surface, app.ctx, theme.ui_font(0.84, "italic"))

    def _draw_card(self, surface: pygame.Surface) -> None:
        """The closing card of an ending: its heading, name and the scenes played."""
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        rect = self.card_rect
        surface.blit(panel(rect.size, pal.panel[:3] + (245,), theme.px(12), pal.accent + (200,),
                           max(1, theme.px(1.5))), rect)
        inner = rect.width - theme.px(48)
        y = rect.y + theme.px(18)
        scene = self.session.scene()
        lines = [(theme.font("title", theme.font_size * 1.3), "The End", pal.accent),
                 (theme.font("italic", theme.font_size * 1.0), scene.title, pal.text),
                 (theme.ui_font(0.74), _scenes_played(len(self.session.path())), pal.dim)]
        for font, text, colour in lines:
            image = ctx.text.render(font, ctx.text.fit(font, text, inner), colour)
            surface.blit(image, (rect.centerx - image.get_width() // 2, y))
            y += font.get_linesize()

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
        small = theme.ui_font(0.66)
        info = f"{session.world.title}  ·  turn {self.turn}"
        info_width = ctx.text.width(small, info)
        right = surface.get_width() - theme.px(36)
        buttons = self._version_buttons()
        arrows = ""
        if buttons:
            arrows = f"version {scene.active + 1} of {len(scene.versions)}"
        arrows_width = (2 * max(theme.px(26), small.get_linesize() + theme.px(4))
                        + ctx.text.width(small, arrows) + theme.px(38) if buttons else 0)
        if info_width > (right - x) // 3:      # a narrow window: the world's title goes first
            info = f"turn {self.turn}"
            info_width = ctx.text.width(small, info)
        self.auto_rect = None
        auto = self.auto_label()     # a lasting badge while auto-advance is on, left of the info
        auto_surface = ctx.text.render(small, auto, pal.accent) if auto else None
        auto_width = auto_surface.get_width() + theme.px(34) if auto_surface else 0
        title_font = theme.font("title", theme.font_size * 1.05)
        room = max(theme.px(40), right - info_width - theme.px(20) - x - arrows_width - auto_width)
        title_surface = ctx.text.render(title_font, ctx.text.fit(title_font, title, room), pal.text)
        surface.blit(title_surface, (x, y))
        x += title_surface.get_width() + theme.px(14)
        if buttons:
            cy = y + title_surface.get_height() // 2
            side = max(theme.px(26), small.get_linesize() + theme.px(4))
            buttons[0].rect.size = buttons[1].rect.size = (side, side)
            buttons[0].rect.topleft = (x, cy - buttons[0].rect.height // 2)
            label = ctx.text.render(small, arrows, pal.dim)
            lx = buttons[0].rect.right + theme.px(6)
            buttons[1].rect.topleft = (lx + label.get_width() + theme.px(6), buttons[0].rect.y)
            buttons[0].draw(surface, ctx, small)
            surface.blit(label, (lx, cy - label.get_height() // 2))
            buttons[1].draw(surface, ctx, small)
        info_surface = ctx.text.render(small, info, pal.dim)
        surface.blit(info_surface, (right - info_surface.get_width(), y + theme.px(4)))
        if auto_surface is not None:
            self._draw_auto(surface, auto_surface, right - info_surface.get_width() - theme.px(14),
                            y + theme.px(4))

    def _draw_auto(self, surface: pygame.Surface, label: pygame.Surface, right: int, y: int) -> None:
        """The auto-advance badge: its pace on a pill, and under it how long until the page turns."""
        theme, ctx = self.app.theme, self.app.ctx
        pad = theme.px(8)
        rect = pygame.Rect(right - label.get_width() - 2 * pad, y - theme.px(3),
                           label.get_width() + 2 * pad, label.get_height() + theme.px(10))
        self.auto_rect = rect
        surface.blit(panel(rect.size, theme.palette.panel, theme.px(6), theme.palette.accent + (255,)), rect)
        surface.blit(label, (rect.x + pad, y))
        if self.box.page_done and not self.box.at_end:
            bar = pygame.Rect(rect.x + pad, rect.bottom - theme.px(5), rect.width - 2 * pad, theme.px(2))
            progress_bar(surface, ctx, bar, min(1.0, self.auto_timer / max(1e-3, self.auto_delay())))

    def _draw_painting(self, surface: pygame.Surface) -> None:
        """While the painter works on this scene: a bar under the top-right corner."""
        session, theme, ctx = self.session, self.app.theme, self.app.ctx
        self._painting_shown = False
        if session is None or session.painter.id == "none":
            return
        scene = session.scene()
        if scene.status != SCENE_READY or scene.id in self.failed_images:
            return
        key = scene.current.image_key
        if key and self.app.image.key == key:
            return
        self._painting_shown = True
        fraction = session.painting_progress(scene.id)
        fraction = -1.0 if fraction is None else fraction
        label = ctx.text.render(theme.ui_font(0.62), "painting the scene", theme.palette.dim)
        right = surface.get_width() - theme.px(36)
        y = theme.px(44)
        surface.blit(label, (right - label.get_width(), y))
        bar = pygame.Rect(right - theme.px(160), y + label.get_height() + theme.px(4),
                          theme.px(160), theme.px(5))
        progress_bar(surface, ctx, bar, fraction)

    def _draw_export(self, surface: pygame.Surface) -> None:
        """While a film, book or Twine story is made: a bar under the top-left corner."""
        task = self.app.exports.task
        if task is None:
            return
        theme, ctx = self.app.theme, self.app.ctx
        text = f"making the {task.label.lower()}  {round(task.fraction * 100)}%  (E: cancel)"
        label = ctx.text.render(theme.ui_font(0.62), text, theme.palette.dim)
        x, y = theme.px(36), theme.px(44)
        surface.blit(label, (x, y))
        bar = pygame.Rect(x, y + label.get_height() + theme.px(4), theme.px(160), theme.px(5))
        progress_bar(surface, ctx, bar, task.fraction)

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
