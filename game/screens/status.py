"""The status panel: who the player is (name, pronouns, look and portrait; E or the Edit button
opens "Who are you?" to change them, from the next scene on), where they are, what they carry,
who is present, the facts the world lets them see (the flags a world lists in world.toml `[state] visible`, with their labels), and
what the game believes about how they play (the player model: their tone and tendencies, in
words), or that they turned it off.

Opens over the story with I (Ctrl+I while the action field is offered) or the quick menu's Status
button; Esc, I or a right click closes. It reads the Session's world state at the current scene
(derived along the path, so it is right after a rollback or a jump) and changes nothing itself.
The portrait is made into a Surface once (a small picture) and kept until it changes.
"""

from __future__ import annotations

import pygame

from game.screens.base import Screen
from game.ui.render import fit, panel, pil_to_surface
from game.ui.widgets import Button

PORTRAIT_SIDE = 110      # the portrait thumbnail's longer side at 720p, at full text size


def readable(name: str) -> str:
    """An id as words: 'keeper_keys' -> 'Keeper keys'."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else ""


def status_rows(session) -> list[tuple[str, str]]:
    """(heading, text) rows for the current scene, in the order shown."""
    state, spec = session.state(), session.world.spec
    names = {c.id: c.name for c in spec.characters}
    rows = [*profile_rows(session),
            ("Location", readable(state.location) or "unknown"),
            ("Carrying", ", ".join(readable(i) for i in state.inventory) or "nothing"),
            ("Present", ", ".join(names.get(p, readable(p)) for p in state.present) or "no one")]
    for flag, label in getattr(spec.state, "visible", {}).items():
        value = state.flag(flag)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        rows.append((label, str(value)))
    return rows + player_rows(session)


def profile_rows(session) -> list[tuple[str, str]]:
    """Who the player is in this story: name and pronouns, and look (Session.player)."""
    persona = session.player()
    who = f"{persona.name} ({persona.pronouns})" if persona.pronouns else persona.name
    return [("You", who), ("Look", persona.look or "not described (E to describe it)")]


def player_rows(session) -> list[tuple[str, str]]:
    """What the game believes about the player at the current scene, in words (the player
    model), so the steering is never hidden; or that the player turned it off."""
    profile = session.player_profile()
    if profile is None:
        return [("The world reads you", "off: prompts and storylets ignore how you play "
                                        "(Settings, Display)")]
    return [("The world reads you", "what the story believes about how you play, and answers "
                                    "(turn it off in Settings, Display)"), *profile.rows()]


class StatusScreen(Screen):
    overlay = True

    def tint(self, palette):
        return palette.background + (215,)

    def __init__(self, app):
        super().__init__(app)
        self.rect = pygame.Rect(0, 0, 0, 0)
        self.lines: list[tuple[str, str, int]] = []   # (text, style, x offset)
        self.scale = 1.0          # text size factor: below 1 only when the panel cannot hold it
        self.edit = Button("Edit profile", self.edit_profile, "E")
        self.portrait_rect = pygame.Rect(0, 0, 0, 0)
        self._portrait: tuple | None = None     # ((hash, size), Surface) of the portrait shown

    def enter(self) -> None:
        """Back from "Who are you?": the profile may have changed."""
        self.layout(self.app.surface.get_size())

    def edit_profile(self) -> None:
        """Open "Who are you?" on the running story's profile."""
        if self.app.session is not None:
            from game.screens.player import PlayerScreen
            self.app.push(PlayerScreen(self.app, edit=True))

    def portrait(self) -> pygame.Surface | None:
        """The player's portrait scaled to the panel, made once per picture and size."""
        session = self.app.session
        digest = session.player().portrait if session is not None else ""
        if not digest:
            return None
        side = self.app.theme.px(PORTRAIT_SIDE * self.scale)
        key = (digest, side)
        if self._portrait is None or self._portrait[0] != key:
            image = session.portrait()
            self._portrait = (key, pil_to_surface(fit(image, (side, side)))
                              if image is not None else None)
        return self._portrait[1]

    def layout(self, size) -> None:
        theme = self.app.theme
        width = min(size[0] - theme.px(60), max(theme.px(760), size[0] * 3 // 5))
        self.rect = pygame.Rect((size[0] - width) // 2, theme.px(30), width,
                                size[1] - theme.px(60))
        for self.scale in (1.0, 0.8, 0.66, 0.55):   # smaller text only when it cannot fit
            self._build()
            content = self._content_height()
            if content <= self.rect.height:
                break
        self.rect.height = min(self.rect.height, content)
        self.rect.y = max(theme.px(30), (size[1] - self.rect.height) // 2)
        x, y = self.rect.x + theme.px(32), self.rect.y + theme.px(20)
        picture = self.portrait()
        self.portrait_rect = (pygame.Rect(x, y, *picture.get_size()) if picture is not None
                              else pygame.Rect(x, y, 0, 0))
        font = theme.ui_font(0.62 * max(self.scale, 0.8))
        width = self.edit.natural_width(self.app.ctx, font)
        self.edit.rect = pygame.Rect(self.rect.right - theme.px(32) - width,
                                     y + self._title_font().get_linesize(), width,
                                     self._button_height())

    def _header_height(self) -> int:
        """The heading, the line under it and the Edit button, or the portrait when taller."""
        theme = self.app.theme
        text = (self._title_font().get_linesize()
                + max(theme.ui_font(0.74, "italic").get_linesize(), self._button_height())
                + theme.px(14))
        picture = self.portrait()
        return max(text, picture.get_height() + theme.px(14) if picture is not None else 0)

    def _button_height(self) -> int:
        return self.app.theme.ui_font(0.62 * max(self.scale, 0.8)).get_linesize() \
            + self.app.theme.px(8)

    def _content_height(self) -> int:
        theme, fonts = self.app.theme, self._fonts()
        return (theme.px(20) + self._header_height()
                + sum(fonts[style].get_linesize() for _, style, _ in self.lines
                      if style != "label-inline") + theme.px(8))

    def _build(self) -> None:
        app, theme = self.app, self.app.theme
        self.lines = []
        session = app.session
        if session is None:
            return
        fonts = self._fonts()
        label_font, value_font = fonts["label"], fonts["value"]
        inner = self.rect.width - 2 * theme.px(32)
        rows = status_rows(session)
        label_width = max(app.text.width(label_font, h) for h, _ in rows) + theme.px(24)
        side = label_width <= inner * 2 // 5      # labels beside the values, or above them
        for heading, text in rows:
            self.lines.append((heading, "label", 0))
            offset = label_width if side else 0
            for i, line in enumerate(app.text.wrap(value_font, text, inner - offset)):
                if side and i == 0:
                    self.lines[-1] = (heading, "label-inline", 0)
                self.lines.append((line, "value" if not (side and i == 0) else "value-inline",
                                   offset))
            self.lines.append(("", "gap", 0))

    def _title_font(self) -> pygame.font.Font:
        theme = self.app.theme
        return theme.font("title", max(26, theme.font_size * 1.2))

    def _fonts(self) -> dict:
        theme = self.app.theme
        size = theme.font_size * self.scale
        label, value = theme.font("bold", size * 0.8), theme.font("text", size)
        return {"label": label, "label-inline": label, "value": value, "value-inline": value,
                "gap": theme.font("text", size * 0.4)}

    def handle(self, event) -> None:
        if self.edit.handle(event):
            return
        if event.type == pygame.KEYDOWN and event.key == pygame.K_e:
            self.edit_profile()
        elif event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_i):
            self.app.pop()
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 3:
            self.app.pop()

    def draw(self, surface: pygame.Surface) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        session = app.session
        surface.blit(panel(self.rect.size, pal.background + (250,), theme.px(12),
                           pal.panel_edge), self.rect)
        x, y = self.rect.x + theme.px(32), self.rect.y + theme.px(20)
        top = y
        picture = self.portrait()
        if picture is not None:
            surface.blit(picture, self.portrait_rect)
            surface.blit(panel(self.portrait_rect.size, (0, 0, 0, 0), theme.px(4),
                               pal.panel_edge), self.portrait_rect)
            x = self.portrait_rect.right + theme.px(18)
        title_font = self._title_font()
        heading = ctx.text.render(title_font, "Status", pal.accent)
        surface.blit(heading, (x, y))
        hint_font = theme.ui_font(0.62)
        hint = ctx.text.render(hint_font, ctx.text.fit(hint_font, "Esc or I to return", self.rect.right
                                                       - x - heading.get_width() - theme.px(60)),
                               pal.dim)
        surface.blit(hint, (self.rect.right - theme.px(32) - hint.get_width(),
                            y + heading.get_height() - hint.get_height() - theme.px(4)))
        y += title_font.get_linesize()
        if session is not None:
            who = session.player().name
            sub_font = theme.ui_font(0.74, "italic")
            sub = ctx.text.fit(sub_font, f"{who}  ·  {session.world.title}",
                               self.edit.rect.x - theme.px(12) - x)
            surface.blit(ctx.text.render(sub_font, sub, pal.dim), (x, y))
            self.edit.draw(surface, ctx, theme.ui_font(0.62 * max(self.scale, 0.8)))
        x, y = self.rect.x + theme.px(32), top + self._header_height()
        fonts = self._fonts()
        colours = {"label": pal.accent, "label-inline": pal.accent, "value": pal.text,
                   "value-inline": pal.text, "gap": pal.text}
        clip = surface.get_clip()
        bottom = self.rect.bottom - theme.px(16)
        surface.set_clip(pygame.Rect(self.rect.x, y, self.rect.width, bottom - y))
        for text, style, offset in self.lines:
            font = fonts[style]
            if style == "label-inline":        # drawn on the value's line, baseline aligned
                value = fonts["value"]
                surface.blit(ctx.text.render(font, text, colours[style]),
                             (x, y + value.get_ascent() - font.get_ascent()))
                continue
            if text:
                surface.blit(ctx.text.render(font, text, colours[style]), (x + offset, y))
            y += font.get_linesize()
        surface.set_clip(clip)
