"""The title screen (also the in-game menu) and the world picker for a new game.

Title: continue, new game, load, settings, quit; in a game it opens over the story with "Return
to the story" first. New game lists the installed worlds with their title, premise and cover (the
cover is painted from the world's `cover` prompt in the background and cached like any image, or
read from the world's images/ when `cover` names a picture file). Begin goes on to "Who are you?"
(game.screens.player), which starts the story.
Worlds, covers and the save list come from the app's Library (engine.library), read on
background jobs; a broken world file shows its message and the others stay playable.
"""

from __future__ import annotations

import pygame

from engine.library import COVER_SIZE
from game.screens.base import Screen
from game.ui.render import gradient, panel, pixels_to_surface, to_pixels
from game.ui.widgets import Button, Menu

KEYS_HELP = ("Space or click: next  ·  1-9 or arrows + Enter: choose  ·  just type: an action of "
             "your own (while choices show, hotkeys need Ctrl)  ·  wheel up or Ctrl+Z: back  ·  "
             "wheel down: forward  ·  R: retell  ·  [ ] or Left / Right: versions  ·  M: map  ·  "
             "H: history  ·  I: status  ·  S / L: save / load  ·  F5 / F9: quicksave / quickload  ·  "
             "A: auto  ·  P: the narrator's prompt  ·  U: sound on/off  ·  O: settings  ·  F11: fullscreen")


# -- shared background work: the world list and covers --------------------------------------
def request_worlds(app, on_ready) -> None:
    """The installed worlds from the Library, loaded once in the background;
    on_ready([(id, World|None, error)]), at once when they are known already."""
    known = app.library.known_worlds
    if known is not None:
        on_ready(known)
        return
    app.background(app.library.worlds, on_ready)


def request_cover(app, world) -> pygame.Surface | None:
    """The world's cover as a Surface, or None while the Library reads or paints it (asked for
    once; the Surfaces are kept in app.covers for the title and the world picker alike)."""
    covers = app.covers
    if world.id in covers:
        return covers[world.id]
    covers[world.id] = None
    library, painter = app.library, app.painter

    def work():
        image = library.cover(world, COVER_SIZE, painter)
        return to_pixels(image) if image is not None else None

    def done(pixels):
        if pixels is not None:
            covers[world.id] = pixels_to_surface(pixels)

    app.background(work, done, lambda err: None)   # no cover is not worth a toast
    return None


def draw_cover(surface: pygame.Surface, cover: pygame.Surface | None, rect: pygame.Rect,
               cache: dict) -> None:
    """Blit a cover scaled to fill rect (scaled once per size, kept in `cache`)."""
    if cover is None:
        surface.blit(gradient(rect.size, (30, 36, 60, 255), (8, 8, 14, 255)), rect)
        return
    key = (id(cover), rect.size)
    scaled = cache.get(key)
    if scaled is None:
        scale = max(rect.width / cover.get_width(), rect.height / cover.get_height())
        size = (round(cover.get_width() * scale), round(cover.get_height() * scale))
        scaled = pygame.transform.smoothscale(cover, size)
        cache.clear()
        cache[key] = scaled
    clip = surface.get_clip()
    surface.set_clip(rect)
    surface.blit(scaled, (rect.centerx - scaled.get_width() // 2,
                          rect.centery - scaled.get_height() // 2))
    surface.set_clip(clip)


# -- title ----------------------------------------------------------------------------------
class TitleScreen(Screen):
    """Main menu. Over a running story it is the game menu (Esc returns to the story)."""

    def tint(self, palette):
        return palette.background + (255,)

    def __init__(self, app):
        super().__init__(app)
        self.in_game = app.session is not None
        self.overlay = self.in_game
        self.menu = Menu()
        self.latest = None          # (slot name, SlotMeta) of the newest save, once known
        self.background_world = None
        self._scaled: dict = {}
        self._backdrop = None
        self._backdrop_key = None
        self.logo_top = 0
        self.help_lines: list[str] = []     # the keys help, when there is room for it
        self._build()

    def enter(self) -> None:
        def done(latest):
            self.latest = latest
            if latest is not None and not self.in_game:
                self.menu.index = -1          # a story to go on with: Continue is highlighted
            self._build()

        self.app.background(self.app.library.newest_slot, done)
        request_worlds(self.app, self._worlds_ready)

    def _worlds_ready(self, worlds) -> None:
        wanted = self.app.config.game.world
        usable = [(wid, w) for wid, w, _ in worlds if w is not None]
        self.background_world = next((w for wid, w in usable if wid == wanted),
                                     usable[0][1] if usable else None)

    def _build(self) -> None:
        app = self.app
        from game.screens.saves import SavesScreen
        from game.screens.settings import SettingsScreen
        items = []
        if self.in_game:
            items.append(Button("Return to the story", app.pop, "Esc", align="left"))
        continue_label = "Continue"
        if self.latest is not None and not self.in_game:
            meta = self.latest[1]
            continue_label = f"Continue  ·  {meta.world_title}, turn {meta.turn}, {meta.when}"
        if not self.in_game:
            items.append(Button(continue_label, lambda: app.load_game(self.latest[0]),
                                enabled=self.latest is not None, align="left"))
        items += [
            Button("New game", lambda: app.push(WorldPicker(app)), align="left"),
            Button("Load", lambda: app.push(SavesScreen(app, "load")), align="left"),
        ]
        if self.in_game:
            items.append(Button("Save", lambda: app.push(SavesScreen(app, "save")), align="left"))
        items += [
            Button("Settings", lambda: app.push(SettingsScreen(app)), align="left"),
            Button("Quit", app.quit, align="left"),
        ]
        index = self.menu.index
        self.menu.set_buttons(items)
        if 0 <= index < len(items) and items[index].enabled:
            self.menu.select(index)
        else:
            self.menu.move(1)
        self.layout(app.surface.get_size())

    def layout(self, size) -> None:
        """The logo, the menu and the keys help, fitted to the window: at a large text size the
        help gives way first, then the space above the logo, then the gaps between buttons."""
        app, theme = self.app, self.app.theme
        left = theme.px(90)
        font = theme.ui_font(0.95)
        widest = max([b.natural_width(app.ctx, font) for b in self.menu.buttons] or [0])
        width = min(max(theme.px(460), widest), size[0] - left - theme.px(40))
        height, gap = font.get_linesize() + theme.px(18), theme.px(10)
        count = len(self.menu.buttons)
        keys_font = theme.ui_font(0.58)
        self.help_lines = app.text.wrap(keys_font, KEYS_HELP, size[0] - 2 * left)
        help_height = len(self.help_lines) * keys_font.get_linesize() + theme.px(24)
        logo, tagline = theme.font("title", 60), theme.font("italic", 20)
        self.logo_top = theme.px(110)

        def menu_top() -> int:
            return (self.logo_top + logo.get_linesize() + theme.px(8) + tagline.get_linesize()
                    + theme.px(24))

        def fits() -> bool:
            return menu_top() + count * height + (count - 1) * gap <= size[1] - help_height
        if not fits():
            self.help_lines, help_height = [], theme.px(16)
        if not fits():
            self.logo_top = theme.px(24)
        if not fits():
            height, gap = font.get_linesize() + theme.px(8), theme.px(4)
        total = count * height + (count - 1) * gap
        y = max(menu_top(), min(max(theme.px(250), size[1] // 2 - theme.px(40)),
                                size[1] - help_height - total))
        for button in self.menu.buttons:
            button.rect = pygame.Rect(left, y, width, height)
            y += height + gap

    def handle(self, event) -> None:
        if self.menu.handle(event):
            return
        if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE and self.in_game:
            self.app.pop()

    def draw(self, surface: pygame.Surface) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        width, height = surface.get_size()
        left = theme.px(90)
        if not self.in_game:
            cover = request_cover(app, self.background_world) if self.background_world else None
            key = (surface.get_size(), id(cover), theme.scale)
            if key != self._backdrop_key:    # compose the still background once
                backdrop = pygame.Surface(surface.get_size()).convert()
                draw_cover(backdrop, cover, backdrop.get_rect(), self._scaled)
                backdrop.blit(gradient((width, height), (0, 0, 0, 40), (0, 0, 0, 150)), (0, 0))
                backdrop.blit(gradient((theme.px(760), height), (0, 0, 0, 150), (0, 0, 0, 0),
                                       horizontal=True), (0, 0))
                self._backdrop, self._backdrop_key = backdrop, key
            surface.blit(self._backdrop, (0, 0))

        logo = ctx.text.render(theme.font("title", 60), "Dreamreel", pal.accent)
        surface.blit(logo, (left, self.logo_top))
        tagline = ("The story is paused." if self.in_game else
                   "A story that writes itself as you play.")
        line = ctx.text.render(theme.font("italic", 20), tagline, pal.text)
        surface.blit(line, (left + theme.px(4), self.logo_top + logo.get_height() + theme.px(8)))
        self.menu.draw(surface, ctx, theme.ui_font(0.95))
        keys_font = theme.ui_font(0.58)
        y = height - theme.px(24) - len(self.help_lines) * keys_font.get_linesize()
        for text in self.help_lines:
            surface.blit(ctx.text.render(keys_font, text, pal.dim), (left, y))
            y += keys_font.get_linesize()


# -- world picker ---------------------------------------------------------------------------
def whole_sentences(ctx, font, text: str, width: int, limit: int) -> list[str]:
    """Wrapped lines of as many whole sentences as fit in `limit` lines (a premise is never cut
    mid-sentence); only a first sentence longer than that ends with an ellipsis."""
    from game.ui.textbox import sentences
    lines = ctx.text.wrap(font, " ".join(text.split()), width)
    if len(lines) <= limit:
        return lines
    kept: list[str] = []
    for sentence in sentences(" ".join(text.split())):
        trial = ctx.text.wrap(font, " ".join(kept + [sentence]), width)
        if len(trial) > limit:
            break
        kept.append(sentence)
    if kept:
        return ctx.text.wrap(font, " ".join(kept), width)
    cut = lines[:limit]
    cut[-1] = ctx.text.fit(font, cut[-1] + " ...", width)
    return cut


class WorldPicker(Screen):
    """Pick the world of a new story: its title, premise and cover; Begin goes on to "Who are
    you?" (the player's profile), which starts it."""

    def __init__(self, app):
        super().__init__(app)
        self.worlds: list = []
        self.list = Menu()
        self.begin = Button("Begin", self._begin, "Enter")
        self.back = Button("Back", app.pop, "Esc")
        self.index = 0
        self._scaled: dict = {}

    def enter(self) -> None:
        request_worlds(self.app, self._ready)

    def _ready(self, worlds) -> None:
        self.worlds = worlds
        for world_id, world, error in worlds:
            if world is None:
                self.app.error(f"World '{world_id}' cannot be played: {error}")
        buttons = []
        for i, (world_id, world, _) in enumerate(worlds):
            label = world.title if world else f"{world_id} (broken)"
            if world is not None and world_id != world.id:    # given by path: say which folder
                label = f"{world.title} ({world_id})"
            buttons.append(Button(label, lambda i=i: self._pick(i), align="left"))
        self.list.set_buttons(buttons)
        wanted = self.app.config.game.world
        first = next((i for i, (wid, w, _) in enumerate(worlds) if wid == wanted and w), 0)
        self._pick(first)
        self.layout(self.app.surface.get_size())

    def _pick(self, index: int) -> None:
        if 0 <= index < len(self.worlds):
            self.index = index
            self.list.select(index)
            self.begin.enabled = self.worlds[index][1] is not None

    def _begin(self) -> None:
        """On to "Who are you?" (game.screens.player), which starts the story."""
        if self.worlds and self.worlds[self.index][1] is not None:
            from game.screens.player import PlayerScreen
            self.app.push(PlayerScreen(self.app, self.worlds[self.index][1]))

    def layout(self, size) -> None:
        app, theme = self.app, self.app.theme
        font = theme.ui_font(0.95)
        height = font.get_linesize() + theme.px(18)
        widest = max([b.natural_width(app.ctx, font) for b in self.list.buttons] or [0])
        list_width = min(max(theme.px(340), widest), size[0] // 3)
        y = theme.px(130)
        for button in self.list.buttons:
            button.rect = pygame.Rect(theme.px(60), y, list_width, height)
            y += height + theme.px(8)
        left = theme.px(60) + list_width + theme.px(40)
        self.cover_rect = pygame.Rect(left, theme.px(130), size[0] - left - theme.px(60),
                                      round((size[0] - left - theme.px(60)) * 9 / 16))
        self.cover_rect.height = min(self.cover_rect.height, size[1] // 2 - theme.px(40))
        bottom = size[1] - theme.px(20) - height
        begin = max(theme.px(200), self.begin.natural_width(app.ctx))
        self.begin.rect = pygame.Rect(size[0] - theme.px(60) - begin, bottom, begin, height)
        self.back.rect = pygame.Rect(theme.px(60), bottom,
                                     max(theme.px(160), self.back.natural_width(app.ctx)), height)

    def handle(self, event) -> None:
        if self.begin.handle(event) or self.back.handle(event):
            return
        before = self.list.index
        if event.type == pygame.KEYDOWN and event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            self._begin()
            return
        if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            self.app.pop()
            return
        self.list.handle(event)
        if self.list.index != before and self.list.index >= 0:
            self._pick(self.list.index)

    def draw(self, surface: pygame.Surface) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        width, height = surface.get_size()
        surface.fill(pal.background)
        heading = ctx.text.render(theme.font("title", 34), "Choose a world", pal.accent)
        surface.blit(heading, (theme.px(60), theme.px(48)))
        if not self.worlds:
            label = ctx.text.render(theme.ui_font(), "Reading the worlds...", pal.dim)
            surface.blit(label, (theme.px(60), theme.px(140)))
        self.list.draw(surface, ctx, theme.ui_font(0.95))
        if self.worlds:
            world_id, world, error = self.worlds[self.index]
            rect = self.cover_rect
            cover = request_cover(app, world) if world else None
            draw_cover(surface, cover, rect, self._scaled)
            surface.blit(panel(rect.size, (0, 0, 0, 0), theme.px(4), pal.panel_edge), rect)
            if world is not None and cover is None:
                label = ctx.text.render(theme.ui_font(0.7, "italic"), "painting the cover...", pal.dim)
                surface.blit(label, (rect.x + theme.px(12), rect.bottom - label.get_height() - theme.px(10)))
            y = rect.bottom + theme.px(18)
            title = world.title if world else world_id
            surface.blit(ctx.text.render(theme.font("title", 28), title, pal.text), (rect.x, y))
            y += theme.font("title", 28).get_linesize() + theme.px(6)
            body = (world.spec.premise if world else f"This world cannot be played: {error}")
            font = theme.font("text", max(14, theme.font_size * 0.82))
            limit = max(1, (self.begin.rect.top - theme.px(12) - y) // font.get_linesize())
            lines = whole_sentences(ctx, font, body, rect.width, limit)
            for line in lines:
                surface.blit(ctx.text.render(font, line, pal.text if world else (255, 140, 140)),
                             (rect.x, y))
                y += font.get_linesize()
            if world is not None and world.spec.tone and len(lines) < limit:
                surface.blit(ctx.text.render(theme.ui_font(0.66, "italic"), world.spec.tone, pal.dim),
                             (rect.x, y + theme.px(6)))
        self.begin.draw(surface, ctx)
        self.back.draw(surface, ctx)
