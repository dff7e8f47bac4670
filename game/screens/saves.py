"""Save and load: slots with a thumbnail, name, world, turn and time, six to a page.

The slot list and the thumbnails come from the app's Library, read on background jobs (the
thumbnail is the slot's thumb.png, or the picture of its current scene from the image cache; the
story being played shows what is on screen), so opening the screen never stalls a frame. A
story with a player's portrait shows it in the corner of its thumbnail (Library.slot_portrait,
read the same way). Saving
over a slot asks for a second click; a damaged slot says why. Deleting the selected slot (Delete
key or button) asks for a second press; it goes to a trash and Undo (button or Ctrl+Z) brings it
back for as long as the game runs (the Library keeps the deletes, so Load and Save share them).
Errors (a full disk, a bad name, a slot a game has open) are toasts and the screen stays open.
"""

from __future__ import annotations

import pygame

from engine.errors import DreamreelError
from game.screens.base import Screen
from game.ui.render import fit, panel, pixels_to_surface, to_pixels
from game.ui.widgets import Button, TextInput

COLUMNS, ROWS = 2, 3
THUMB = (320, 180)


class SavesScreen(Screen):
    overlay = True

    def tint(self, palette):
        return palette.background + (255,)

    def __init__(self, app, mode: str = "load"):
        super().__init__(app)
        self.mode = mode                      # "save" or "load"
        self.slots: list | None = None        # [(meta, name, problem)] once read
        self.thumbs: dict[str, pygame.Surface | None] = {}
        self.portraits: dict[str, pygame.Surface | None] = {}   # the player's, where a story has one
        self.page = 0
        self.index = 0                        # selected card on this page
        self.armed = ""                       # slot waiting for a second click to overwrite
        self.armed_delete = ""                # slot waiting for a second press to delete
        self.name = TextInput("name of the new save", self._save_new, max_chars=48)
        self.cards: list[tuple[pygame.Rect, str | None]] = []   # (rect, slot name or None=new)
        self.prev = Button("< Prev", lambda: self.turn(-1))
        self.next = Button("Next >", lambda: self.turn(1))
        self.close = Button("Back", app.pop, "Esc")
        self.delete = Button("Delete", self.delete_selected, "Del")
        self.undo = Button("Undo delete", self.undo_delete, "Ctrl+Z")

    # -- data -------------------------------------------------------------------------------
    def enter(self) -> None:
        self.app.background(self.app.library.slots, self._listed)

    def _listed(self, slots) -> None:
        self.slots = slots
        taken = {name for _, name, _ in slots}
        number = 1                    # the lowest free number: never skipped
        while f"save {number}" in taken:
            number += 1
        if not self.name.text:
            self.name.text = f"save {number}"
            self.name.cursor = len(self.name.text)
        self.page = min(self.page, max(0, self.pages - 1))
        for meta, name, _ in slots:
            if name not in self.thumbs:
                self._load_thumb(meta, name)
            if name not in self.portraits and meta is not None:
                self._load_portrait(name)
        self.layout(self.app.surface.get_size())

    def _load_thumb(self, meta, name: str) -> None:
        self.thumbs[name] = None
        session, library = self.app.session, self.app.library
        if session is not None and name == session.slot and self.app.image.current is not None:
            live = self.app.image.current          # the running story's slot: what is on screen
            scale = THUMB[1] / live.get_height()
            self.thumbs[name] = pygame.transform.smoothscale(
                live, (round(live.get_width() * scale), THUMB[1]))
            return

        def work():
            image = library.thumbnail(name, meta)
            return to_pixels(fit(image, THUMB)) if image is not None else None

        def done(pixels):
            if pixels is not None:
                self.thumbs[name] = pixels_to_surface(pixels)

        self.app.background(work, done, lambda err: None)

    def _load_portrait(self, name: str) -> None:
        self.portraits[name] = None
        library = self.app.library

        def work():
            image = library.slot_portrait(name)
            return to_pixels(fit(image, (THUMB[1], THUMB[1]))) if image is not None else None

        def done(pixels):
            if pixels is not None:
                self.portraits[name] = pixels_to_surface(pixels)

        self.app.background(work, done, lambda err: None)   # no portrait is not worth a toast

    @property
    def entries(self) -> list[str | None]:
        """Card contents in order: None is the 'new save' card (save mode only)."""
        names = [name for _, name, _ in (self.slots or [])]
        return ([None] if self.mode == "save" else []) + names

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.entries) // (COLUMNS * ROWS)))

    def turn(self, step: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + step))
        self.index = 0
        self.armed = ""
        self.layout(self.app.surface.get_size())

    # -- actions ----------------------------------------------------------------------------
    def _save_new(self, name: str) -> None:
        self._save(name)

    def _save(self, name: str) -> None:
        session = self.app.session
        if session is None:
            self.app.error("There is no story to save yet: start or load one first.")
            return
        session.save(name)
        self.armed = ""
        self.name.clear()
        self.name.focus(False)
        self.enter()

    def selected(self) -> str | None:
        """The slot of the selected card (None: none, or the 'new save' card)."""
        if not self.cards:
            return None
        return self.cards[min(self.index, len(self.cards) - 1)][1]

    def delete_selected(self) -> None:
        """Delete the selected slot: the first press asks, the second deletes (to the trash)."""
        name = self.selected()
        if name is None:
            return
        if self.armed_delete != name:
            self.armed_delete = name
            return
        self.armed_delete = ""
        try:
            self.app.library.delete_slot(name)
        except DreamreelError as err:
            self.app.error(err)
            return
        self.thumbs.pop(name, None)
        self.app.notice(f"Deleted '{name}'. Undo delete (Ctrl+Z) brings it back.")
        self.enter()

    def undo_delete(self) -> None:
        """Bring back the slot deleted last."""
        if not self.app.library.can_undo_delete:
            return
        try:
            name = self.app.library.undo_delete()
        except DreamreelError as err:
            self.app.error(err)
            return
        self.app.notice(f"Restored '{name}'.")
        self.enter()

    def activate(self, entry: str | None) -> None:
        if self.mode == "save":
            if entry is None:
                self._save(self.name.text.strip() or "save")
            elif self.armed == entry:
                self._save(entry)
            else:
                self.armed = entry
        else:
            meta = next((m for m, n, _ in self.slots or [] if n == entry), None)
            if meta is None:
                problem = next((p for _, n, p in self.slots or [] if n == entry), "")
                self.app.error(f"Slot '{entry}' cannot be loaded: {problem}")
                return
            self.app.load_game(entry)

    def animating(self) -> bool:
        return self.name.focused     # the cursor blinks

    def update(self, dt: float) -> None:
        self.name.update(dt)

    # -- input ------------------------------------------------------------------------------
    def handle(self, event) -> None:
        if self.mode == "save" and self.name.focused:
            if self.name.handle(event):
                return
        self.undo.enabled = self.app.library.can_undo_delete
        self.delete.enabled = self.selected() is not None
        for button in (self.prev, self.next, self.close, self.delete, self.undo):
            if button.handle(event):
                return
        if self.mode == "save" and self.name.handle(event):
            self.index = 0
            return
        if event.type == pygame.MOUSEMOTION:
            for i, (rect, _) in enumerate(self.cards):
                if rect.collidepoint(event.pos):
                    self.index = i
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            for i, (rect, entry) in enumerate(self.cards):
                if rect.collidepoint(event.pos):
                    self.index = i
                    self.armed_delete = ""
                    self.activate(entry)
                    return
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 3:
            self.app.pop()
        elif event.type == pygame.MOUSEWHEEL:
            self.turn(-1 if event.y > 0 else 1)
        elif event.type == pygame.KEYDOWN:
            self._key(event.key, getattr(event, "mod", 0))

    def _key(self, key, mod: int = 0) -> None:
        count = len(self.cards)
        if key == pygame.K_ESCAPE:
            self.app.pop()
        elif key == pygame.K_DELETE:
            self.delete_selected()
        elif key == pygame.K_z and mod & (pygame.KMOD_CTRL | pygame.KMOD_META):
            self.undo_delete()
        elif key == pygame.K_PAGEUP:
            self.turn(-1)
        elif key == pygame.K_PAGEDOWN:
            self.turn(1)
        elif key == pygame.K_TAB and self.mode == "save":
            self.name.focus(True)
        elif count and key in (pygame.K_LEFT, pygame.K_RIGHT, pygame.K_UP, pygame.K_DOWN):
            step = {pygame.K_LEFT: -1, pygame.K_RIGHT: 1, pygame.K_UP: -COLUMNS,
                    pygame.K_DOWN: COLUMNS}[key]
            self.index = max(0, min(count - 1, self.index + step))
            self.armed = ""
            self.armed_delete = ""
        elif count and key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            self.activate(self.cards[min(self.index, count - 1)][1])

    # -- drawing ----------------------------------------------------------------------------
    def layout(self, size) -> None:
        theme = self.app.theme
        margin = theme.px(48)
        top = theme.px(110)
        button_h = theme.ui_font().get_linesize() + theme.px(14)
        bottom = size[1] - theme.px(30) - button_h
        gap = theme.px(16)
        card_w = (size[0] - 2 * margin - gap * (COLUMNS - 1)) // COLUMNS
        card_h = (bottom - top - gap * (ROWS - 1)) // ROWS
        per_page = COLUMNS * ROWS
        shown = self.entries[self.page * per_page:(self.page + 1) * per_page]
        self.cards = []
        for i, entry in enumerate(shown):
            col, row = i % COLUMNS, i // COLUMNS
            rect = pygame.Rect(margin + col * (card_w + gap), top + row * (card_h + gap), card_w, card_h)
            self.cards.append((rect, entry))
        ctx, y = self.app.ctx, size[1] - theme.px(16) - button_h
        wide = max(theme.px(110), self.prev.natural_width(ctx), self.next.natural_width(ctx))
        self.close.rect = pygame.Rect(margin, y, max(theme.px(150), self.close.natural_width(ctx)),
                                      button_h)
        gap = theme.px(12)
        self.delete.rect = pygame.Rect(self.close.rect.right + gap, y,
                                       self.delete.natural_width(ctx), button_h)
        self.undo.rect = pygame.Rect(self.delete.rect.right + gap, y,
                                     self.undo.natural_width(ctx), button_h)
        self.next.rect = pygame.Rect(size[0] - margin - wide, y, wide, button_h)
        page = ctx.text.width(theme.ui_font(0.7), "page 10 of 10") + theme.px(24)
        self.prev.rect = pygame.Rect(self.next.rect.x - page - wide, y, wide, button_h)
        if self.cards and self.cards[0][1] is None:
            rect = self.cards[0][0]
            pad = theme.px(16)
            self.name.rect = pygame.Rect(rect.x + pad, rect.bottom - pad - button_h,
                                         rect.width - 2 * pad, button_h)
        else:
            self.name.rect = pygame.Rect(0, 0, 0, 0)
        self.index = min(self.index, max(0, len(self.cards) - 1))

    def draw(self, surface: pygame.Surface) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        title = "Save your story" if self.mode == "save" else "Load a story"
        surface.blit(ctx.text.render(theme.font("title", 30), title, pal.accent),
                     (theme.px(48), theme.px(36)))
        hint = ("click a slot to save over it (twice to confirm), or name a new save"
                if self.mode == "save" else "click a slot to load it")
        hint += "  ·  Del deletes the selected one (twice to confirm)"
        surface.blit(ctx.text.render(theme.ui_font(0.66), hint, pal.dim), (theme.px(50), theme.px(80)))
        if self.slots is None:
            surface.blit(ctx.text.render(theme.ui_font(), "Reading the saves...", pal.dim),
                         (theme.px(48), theme.px(120)))
        elif not self.entries:
            surface.blit(ctx.text.render(theme.ui_font(), "No saves yet.", pal.dim),
                         (theme.px(48), theme.px(120)))
        metas = {name: (meta, problem) for meta, name, problem in self.slots or []}
        for i, (rect, entry) in enumerate(self.cards):
            lit = i == self.index
            edge = pal.accent + (255,) if lit else pal.button_edge
            surface.blit(panel(rect.size, pal.button_hover if lit and theme.high_contrast else pal.button,
                               theme.px(10), edge, max(1, theme.px(2 if lit else 1))), rect)
            if entry is None:
                self._draw_new(surface, rect)
            else:
                self._draw_slot(surface, rect, entry, *metas.get(entry, (None, "")), lit)
        page = ctx.text.render(theme.ui_font(0.7), f"page {self.page + 1} of {self.pages}", pal.dim)
        surface.blit(page, (self.prev.rect.right + (self.next.rect.x - self.prev.rect.right
                                                    - page.get_width()) // 2,
                            self.prev.rect.centery - page.get_height() // 2))
        self.undo.enabled = self.app.library.can_undo_delete
        self.delete.enabled = self.selected() is not None
        for button in (self.prev, self.next, self.close, self.delete, self.undo):
            button.draw(surface, ctx)

    def _draw_new(self, surface, rect) -> None:
        theme, ctx = self.app.theme, self.app.ctx
        pal = theme.palette
        pad = theme.px(16)
        surface.blit(ctx.text.render(theme.font("title", 22), "+ New save", pal.text),
                     (rect.x + pad, rect.y + pad))
        surface.blit(ctx.text.render(theme.ui_font(0.66), "Enter to save  ·  Tab to rename", pal.dim),
                     (rect.x + pad, rect.y + pad + theme.px(34)))
        self.name.draw(surface, ctx, theme.ui_font(0.8))

    def _draw_slot(self, surface, rect, name, meta, problem, lit) -> None:
        theme, ctx = self.app.theme, self.app.ctx
        pal = theme.palette
        pad = theme.px(12)
        thumb_h = rect.height - 2 * pad
        thumb_rect = pygame.Rect(rect.x + pad, rect.y + pad, thumb_h * 16 // 9, thumb_h)
        thumb = self.thumbs.get(name)
        if thumb is not None:
            if thumb.get_size() != thumb_rect.size:
                thumb = pygame.transform.smoothscale(thumb, thumb_rect.size)
                self.thumbs[name] = thumb
            surface.blit(thumb, thumb_rect)
        else:
            surface.blit(panel(thumb_rect.size, (30, 34, 50, 255), theme.px(4)), thumb_rect)
        self._draw_portrait(surface, thumb_rect, name)
        x = thumb_rect.right + pad
        y = rect.y + pad
        width = rect.right - pad - x
        surface.blit(ctx.text.render(theme.font("bold", 17), _fit(ctx, theme.font("bold", 17), name, width),
                                     pal.accent if lit else pal.text), (x, y))
        y += theme.font("bold", 17).get_linesize() + theme.px(4)
        small = theme.ui_font(0.66)
        if meta is None:
            for line in ctx.text.wrap(small, f"Damaged: {problem}", width)[:4]:
                surface.blit(ctx.text.render(small, line, (255, 140, 140)), (x, y))
                y += small.get_linesize()
            return
        lines = [meta.world_title or meta.world, f"turn {meta.turn}  ·  {meta.when}",
                 meta.scene_title]
        if self.armed_delete == name:
            lines.append("press Delete again to delete")
        elif self.armed == name:
            lines.append("click again to overwrite")
        for i, line in enumerate(lines):
            colour = pal.accent if i == 3 else (pal.text if i == 0 else pal.dim)
            surface.blit(ctx.text.render(small, _fit(ctx, small, line, width), colour), (x, y))
            y += small.get_linesize() + theme.px(2)


    def portrait_rect(self, thumb_rect: pygame.Rect, name: str) -> pygame.Rect | None:
        """Where a slot's portrait sits: the thumbnail's lower right corner, half its height."""
        portrait = self.portraits.get(name)
        if portrait is None:
            return None
        inset = self.app.theme.px(4)
        height = max(1, thumb_rect.height // 2)
        width = max(1, round(portrait.get_width() * height / portrait.get_height()))
        return pygame.Rect(thumb_rect.right - inset - width, thumb_rect.bottom - inset - height,
                           width, height)

    def _draw_portrait(self, surface, thumb_rect: pygame.Rect, name: str) -> None:
        rect = self.portrait_rect(thumb_rect, name)
        if rect is None:
            return
        portrait = self.portraits[name]
        if portrait.get_size() != rect.size:          # scaled once per card size
            portrait = pygame.transform.smoothscale(portrait, rect.size)
            self.portraits[name] = portrait
        surface.blit(portrait, rect)
        theme = self.app.theme
        surface.blit(panel(rect.size, (0, 0, 0, 0), theme.px(3), theme.palette.accent + (255,),
                           max(1, theme.px(1.5))), rect)


def _fit(ctx, font, text: str, width: int) -> str:
    if ctx.text.width(font, text) <= width:
        return text
    while text and ctx.text.width(font, text + "...") > width:
        text = text[:-1]
    return text + "..."
