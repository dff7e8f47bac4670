"""The "Who are you?" screen: the player's name, pronouns, look and portrait for a story.

On New game it follows the world picker: the fields start from the world's suggestions (its
`[player]` table), or from what the command line gave (--player-name, --pronouns,
--player-look, --portrait); Enter or Begin starts the story with them (App.new_game), Esc goes
back to the world picker. From the status panel it edits the running story's profile
(Session.set_player), which applies from the next scene. Tab and Shift+Tab move between the
fields; every field works with the keyboard alone.

The portrait is a file path the engine checks (type, size, pixel bomb); a bad one comes back
as an error toast naming the file, and the story goes on without it. Reads no files itself.
"""

from __future__ import annotations

import pygame

from engine import PLAYER_LOOK_CHARS, PLAYER_NAME_CHARS, PLAYER_PRONOUNS_CHARS
from game.screens.base import Screen
from game.ui.widgets import Button, TextInput

PORTRAIT_PATH_CHARS = 1000      # a file path typed or pasted into the portrait field
APPLIES_LATER = "Your profile applies from the next scene"
FIELDS = ("name", "pronouns", "look", "portrait")
LABELS = {"name": "Name", "pronouns": "Pronouns", "look": "Look (in every picture that shows you)",
          "portrait": "Portrait (optional: a PNG, JPEG or WebP file; never uploaded)"}


class PlayerScreen(Screen):
    """Who the player is: four fields, and Begin (a new story) or Save (the running one)."""

    def __init__(self, app, world=None, edit: bool = False):
        super().__init__(app)
        self.world = world
        self.edit = edit
        self.fields = {
            "name": TextInput("your name", max_chars=PLAYER_NAME_CHARS),
            "pronouns": TextInput("e.g. she/her, he/him, they/them",
                                  max_chars=PLAYER_PRONOUNS_CHARS),
            "look": TextInput("a few words on how you look", max_chars=PLAYER_LOOK_CHARS),
            "portrait": TextInput("keep your portrait (or a file: ~/me.png)" if edit else
                                  "a picture file, e.g. ~/me.png", max_chars=PORTRAIT_PATH_CHARS),
        }
        self.begin = Button("Save" if edit else "Begin", self.submit, "Enter")
        self.back = Button("Back", app.pop, "Esc")
        self.remove = Button("No portrait", self.drop_portrait, enabled=False)
        self.drop = False               # edit: remove the story's portrait on Save
        self.scale = 1.0                # text size factor: below 1 only when the window is small
        self.label_rects: dict[str, pygame.Rect] = {}
        self.heading_y = 0
        self.subtitle_y = 0
        self._fill()
        self.focus("name")

    # -- data -------------------------------------------------------------------------------
    def _fill(self) -> None:
        if self.edit and self.app.session is not None:
            persona = self.app.session.player()
            values = {"name": persona.name, "pronouns": persona.pronouns, "look": persona.look,
                      "portrait": ""}
            self.remove.enabled = bool(persona.portrait)
        else:
            suggested = self.world.spec.player if self.world is not None else None
            values = {"name": getattr(suggested, "name", ""),
                      "pronouns": getattr(suggested, "pronouns", ""),
                      "look": getattr(suggested, "look", ""), "portrait": ""}
            values.update({k: str(v) for k, v in (self.app.player or {}).items()
                           if k in values and v is not None})
        for name, field in self.fields.items():
            field.clear()
            field.insert(values[name])

    def choice(self) -> dict:
        """The profile as typed: name, pronouns and look always; the portrait when given (in
        edit mode "" removes it, and a field left empty keeps it)."""
        chosen = {name: self.fields[name].text.strip() for name in ("name", "pronouns", "look")}
        portrait = self.fields["portrait"].text.strip()
        if portrait:
            chosen["portrait"] = portrait
        elif self.edit and self.drop:
            chosen["portrait"] = ""
        return chosen

    def drop_portrait(self) -> None:
        """Edit mode: remove the story's portrait when saved (the field is emptied)."""
        self.drop = True
        self.fields["portrait"].clear()
        self.remove.enabled = False

    def submit(self) -> None:
        """Begin the story with this profile, or (edit mode) apply it to the running story."""
        chosen = self.choice()
        if not self.edit:
            if self.world is not None:
                self.app.new_game(self.world, player=chosen)
            return
        session = self.app.session
        if session is None:
            self.app.pop()
            return
        path = chosen.pop("portrait", None)
        session.set_player(**chosen)
        if path:          # the file is read and checked off the frame loop, then applied
            self.app.background(lambda: session.prepare_portrait(path),
                                lambda checked: self._portrait_ready(session, checked),
                                lambda err: self._portrait_ready(session, None, err))
        elif path is not None:
            session.set_player(portrait=path)
        self.app.notice(APPLIES_LATER)
        self.app.changed()
        self.app.pop()

    def _portrait_ready(self, session, checked, err: BaseException | None = None) -> None:
        if session is not self.app.session:
            return                    # another story was opened meanwhile
        if err is not None:
            self.app.error(err)
        session.set_player(portrait=checked if checked is not None else "")
        self.app.changed()

    # -- focus ------------------------------------------------------------------------------
    @property
    def focused(self) -> str | None:
        return next((name for name, field in self.fields.items() if field.focused), None)

    def focus(self, name: str) -> None:
        for key, field in self.fields.items():
            field.focus(key == name)

    def move_focus(self, step: int) -> None:
        current = self.focused
        index = FIELDS.index(current) if current else (-1 if step > 0 else 0)
        self.focus(FIELDS[(index + step) % len(FIELDS)])

    # -- screen -----------------------------------------------------------------------------
    def _fonts(self, scale: float) -> dict:
        theme = self.app.theme
        return {"heading": theme.font("title", max(20, 34 * scale)),
                "sub": theme.ui_font(0.7 * scale, "italic"),
                "label": theme.ui_font(0.66 * scale, "bold"),
                "field": theme.ui_font(0.82 * scale, "italic"),
                "button": theme.ui_font(0.95 * scale)}

    def layout(self, size) -> None:
        """Heading, then label and field for each of the four, then the buttons; the text gets
        smaller (down to about half) only when the window cannot hold it."""
        app, theme = self.app, self.app.theme
        margin = theme.px(60)
        width = min(size[0] - 2 * margin, theme.px(900))
        left = (size[0] - width) // 2
        for self.scale in (1.0, 0.85, 0.7, 0.6, 0.5):
            fonts = self._fonts(self.scale)
            gap = theme.px(14 * self.scale)
            field_h = fonts["field"].get_linesize() + theme.px(14 * self.scale)
            button_h = fonts["button"].get_linesize() + theme.px(12 * self.scale)
            top = theme.px(40 * self.scale)
            needed = (top + fonts["heading"].get_linesize() + fonts["sub"].get_linesize() + gap
                      + len(FIELDS) * (fonts["label"].get_linesize() + field_h + gap)
                      + button_h + theme.px(16))
            if needed <= size[1]:
                break
        y = top
        self.heading_y = y
        y += fonts["heading"].get_linesize()
        self.subtitle_y = y
        y += fonts["sub"].get_linesize() + gap
        for name in FIELDS:
            self.label_rects[name] = pygame.Rect(left, y, width, fonts["label"].get_linesize())
            y += fonts["label"].get_linesize()
            self.fields[name].rect = pygame.Rect(left, y, width, field_h)
            y += field_h + gap
        bottom = min(size[1] - theme.px(16) - button_h, max(y, size[1] - theme.px(20) - button_h))
        font = fonts["button"]
        begin = max(theme.px(200 * self.scale), self.begin.natural_width(app.ctx, font))
        self.begin.rect = pygame.Rect(left + width - begin, bottom, begin, button_h)
        self.back.rect = pygame.Rect(left, bottom, max(theme.px(160 * self.scale),
                                                       self.back.natural_width(app.ctx, font)),
                                     button_h)
        if self.edit:
            remove = self.remove.natural_width(app.ctx, font)
            self.remove.rect = pygame.Rect(self.back.rect.right + theme.px(12), bottom, remove,
                                           button_h)
        else:
            self.remove.rect = pygame.Rect(0, 0, 0, 0)

    @property
    def buttons(self) -> list[Button]:
        return [self.back, self.begin] + ([self.remove] if self.edit else [])

    def animating(self) -> bool:
        return self.focused is not None          # the cursor blinks

    def update(self, dt: float) -> None:
        for field in self.fields.values():
            field.update(dt)

    def handle(self, event) -> None:
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self.submit()
                return
            if event.key == pygame.K_ESCAPE:
                self.app.pop()
                return
            if event.key == pygame.K_TAB:
                self.move_focus(-1 if event.mod & pygame.KMOD_SHIFT else 1)
                return
            if event.key in (pygame.K_UP, pygame.K_DOWN) and self.focused is not None:
                self.move_focus(-1 if event.key == pygame.K_UP else 1)
                return
        for button in self.buttons:
            if button.handle(event):
                return
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 3:
            self.app.pop()
            return
        for name, field in self.fields.items():
            if field.handle(event) and name == "portrait" and event.type == pygame.TEXTINPUT:
                self.drop = False

    def draw(self, surface: pygame.Surface) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        surface.fill(pal.background)
        fonts = self._fonts(self.scale)
        left, width = self.fields["name"].rect.x, self.fields["name"].rect.width
        heading = "Your profile" if self.edit else "Who are you?"
        surface.blit(ctx.text.render(fonts["heading"], heading, pal.accent), (left, self.heading_y))
        world = app.session.world if self.edit and app.session is not None else self.world
        role = world.spec.player_role if world is not None else ""
        sub = (f"{world.title}  ·  you play {role}" if world is not None and role else
               world.title if world is not None else "")
        if self.edit:
            sub = f"{sub}  ·  changes apply from the next scene" if sub else APPLIES_LATER
        surface.blit(ctx.text.render(fonts["sub"], ctx.text.fit(fonts["sub"], sub, width),
                                     pal.dim), (left, self.subtitle_y))
        hint = "Tab: next field  ·  Enter: " + ("save" if self.edit else "begin") + "  ·  Esc: back"
        for name in FIELDS:
            rect = self.label_rects[name]
            label = ctx.text.fit(fonts["label"], LABELS[name], width)
            surface.blit(ctx.text.render(fonts["label"], label,
                                         pal.accent if self.fields[name].focused else pal.text),
                         rect.topleft)
            self.fields[name].draw(surface, ctx, fonts["field"])
        room = self.begin.rect.x - self.back.rect.right - theme.px(24)
        if self.edit:
            room = self.begin.rect.x - self.remove.rect.right - theme.px(24)
        small = theme.ui_font(0.58 * self.scale)
        if room > theme.px(60):
            text = ctx.text.fit(small, hint, room)
            line = ctx.text.render(small, text, pal.dim)
            x0 = (self.remove.rect.right if self.edit else self.back.rect.right) + theme.px(12)
            surface.blit(line, (x0 + (room - line.get_width()) // 2,
                                self.begin.rect.centery - line.get_height() // 2))
        for button in self.buttons:
            button.draw(surface, ctx, fonts["button"])


__all__ = ["PlayerScreen", "APPLIES_LATER"]
