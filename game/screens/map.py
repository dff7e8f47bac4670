"""The story map: the explored graph as a tree, the current path lit, open ends for untaken choices.

The engine lays the tree out (StoryGraph.map_view: depth from the root, rows by a post-order walk
so every parent sits centred over its children) and says which scenes are explored; this screen
draws it left to right. Click a told scene (its dot or anywhere on its label) to jump there;
click an open end to go to its scene and take that choice, whichever telling of the scene
offered it: a scene told more than once is marked with its number of versions, and the choices
of each version carry its number. Drag or use the wheel to pan, +/- to zoom; the keyboard walks
the tree (arrows) and Enter jumps. Esc or M returns to the story. Told scenes are those the
player has been to (StoryGraph.explored: visited scenes, recorded by the engine and kept in
saves); scenes told ahead by prefetch stay open ends, their text unseen.
"""

from __future__ import annotations

import pygame

from engine import SCENE_FAILED, SCENE_READY
from game.screens.base import Screen
from game.ui.render import gradient, panel

COLUMN = 230     # pixels between depths at zoom 1 (at 720p)
ROW = 46         # pixels between rows


class MapScreen(Screen):
    overlay = True

    def tint(self, palette):
        return palette.background + (255,)

    def __init__(self, app):
        super().__init__(app)
        self.positions: dict = {}   # scene -> (depth, row), from the engine's MapView
        self.visited: frozenset = frozenset()
        self.children: dict = {}    # scene -> its children shown on the map
        self.edges: list = []       # (parent, child) lines
        self.zoom = 1.0
        self.camera = [0.0, 0.0]    # map point at the window centre
        self.selected = None
        self.hover = None
        self._size_seen = -1
        self._drag_from = None
        self._dragged = False
        self._labels: dict = {}     # node -> its label's rect on screen (clickable)

    # -- layout -----------------------------------------------------------------------------
    def enter(self) -> None:
        self._refresh()
        session = self.app.session
        if session is not None:
            self.selected = session.current
            self.center_on(session.current)

    def _refresh(self) -> None:
        session = self.app.session
        if session is None:
            self.positions = {}
            return
        if session.scene_count != self._size_seen:
            self._size_seen = session.scene_count
            view = session.map_view()
            self.visited, self.positions = view.visited, view.positions
            self.children, self.edges = view.children, view.edges

    def point(self, node) -> tuple[float, float]:
        """A node's position in map units (pixels at zoom 1, before the camera)."""
        depth, row = self.positions[node]
        theme = self.app.theme
        return depth * theme.px(COLUMN), row * theme.px(ROW)

    def to_screen(self, node) -> tuple[int, int]:
        x, y = self.point(node)
        width, height = self.app.surface.get_size()
        return (round((x - self.camera[0]) * self.zoom + width / 2),
                round((y - self.camera[1]) * self.zoom + height / 2))

    def center_on(self, node) -> None:
        if node in self.positions:
            x, y = self.point(node)
            self.camera = [x + self.app.theme.px(COLUMN) * 0.3, y]

    def node_at(self, pos) -> int | None:
        """The scene under pos: its dot, or anywhere on its label."""
        radius = self.app.theme.px(14) * max(0.7, self.zoom)
        best, best_distance = None, radius * radius
        for node in self.positions:
            x, y = self.to_screen(node)
            distance = (x - pos[0]) ** 2 + (y - pos[1]) ** 2
            if distance <= best_distance:
                best, best_distance = node, distance
        if best is None:
            for node, rect in self._labels.items():
                if rect.collidepoint(pos):
                    return node
        return best

    def version_mark(self, node) -> str:
        """'v2 · ' before a choice when its scene was told more than once (which telling)."""
        scene = self.app.session.scene(node)
        if scene.parent is None:
            return ""
        parent = self.app.session.scene(scene.parent)
        return f"v{scene.parent_version + 1} \u00b7 " if len(parent.versions) > 1 else ""

    # -- acting -----------------------------------------------------------------------------
    def activate(self, node) -> None:
        """Jump to a told scene, or take an unexplored choice from its scene."""
        session = self.app.session
        if session is None or node is None:
            return
        scene = session.scene(node)
        if node in self.visited:
            session.jump(node)
            self.app.pop()
            return
        if scene.parent is None:
            return
        session.jump(scene.parent)
        parent = session.scene(scene.parent)
        if parent.active != scene.parent_version:     # offered by another telling: show it
            session.select_version(scene.parent_version)
        ids = [c.id for c in session.choices()]
        if node in ids:
            session.choose(ids.index(node))
        elif scene.status == SCENE_READY:                    # a typed action told before
            session.jump(node)
        self.app.pop()

    def _walk(self, key) -> None:
        session = self.app.session
        node = self.selected if self.selected in self.positions else session.current
        scene = session.scene(node)
        target = None
        if key == pygame.K_LEFT:
            target = scene.parent
        elif key == pygame.K_RIGHT:
            children = list(self.children.get(node, ()))
            path = set(session.path())
            target = next((c for c in children if c in path), children[0] if children else None)
        elif key in (pygame.K_UP, pygame.K_DOWN):
            depth, row = self.positions[node]
            same = sorted((r, n) for n, (d, r) in self.positions.items() if d == depth)
            index = [n for _, n in same].index(node) + (-1 if key == pygame.K_UP else 1)
            if 0 <= index < len(same):
                target = same[index][1]
        if target is not None:
            self.selected = target
            self.center_on(target)

    def handle(self, event) -> None:
        theme = self.app.theme
        if event.type == pygame.KEYDOWN:
            key = event.key
            if key in (pygame.K_ESCAPE, pygame.K_m):
                self.app.pop()
            elif key in (pygame.K_LEFT, pygame.K_RIGHT, pygame.K_UP, pygame.K_DOWN):
                self._walk(key)
            elif key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE):
                self.activate(self.selected)
            elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
                self.zoom = min(2.0, self.zoom * 1.2)
            elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
                self.zoom = max(0.35, self.zoom / 1.2)
            elif key == pygame.K_HOME and self.app.session is not None:
                self.selected = self.app.session.current
                self.center_on(self.selected)
        elif event.type == pygame.MOUSEWHEEL:
            if pygame.key.get_mods() & pygame.KMOD_CTRL:
                self.zoom = max(0.35, min(2.0, self.zoom * (1.15 if event.y > 0 else 1 / 1.15)))
            else:
                step = theme.px(ROW) * 2 / self.zoom
                self.camera[0] -= event.x * step
                self.camera[1] -= event.y * step
        elif event.type == pygame.MOUSEBUTTONDOWN:
            if event.button == 1:
                self._drag_from, self._dragged = event.pos, False
            elif event.button == 3:
                self.app.pop()
        elif event.type == pygame.MOUSEMOTION:
            self.hover = self.node_at(event.pos)
            if self._drag_from is not None and event.buttons[0]:
                dx, dy = event.rel
                if abs(event.pos[0] - self._drag_from[0]) + abs(event.pos[1] - self._drag_from[1]) > 6:
                    self._dragged = True
                if self._dragged:
                    self.camera[0] -= dx / self.zoom
                    self.camera[1] -= dy / self.zoom
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            start, self._drag_from = self._drag_from, None
            if start is not None and not self._dragged:
                node = self.node_at(event.pos)
                if node is not None:
                    self.selected = node
                    self.activate(node)

    def update(self, dt: float) -> None:
        self._refresh()

    # -- drawing ----------------------------------------------------------------------------
    def draw(self, surface: pygame.Surface) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        session = app.session
        if session is None or not self.positions:
            return
        path = session.path()
        on_path = set(path)
        path_edges = set(zip(path, path[1:]))
        screen = {node: self.to_screen(node) for node in self.positions}
        view = surface.get_rect().inflate(theme.px(300), theme.px(100))
        thin, thick = max(1, theme.px(1.5)), max(2, theme.px(4))
        for parent, child in self.edges:
            a, b = screen.get(parent), screen.get(child)
            if a is None or b is None or not (view.collidepoint(a) or view.collidepoint(b)):
                continue
            lit = (parent, child) in path_edges
            colour = pal.accent if lit else (pal.map_node if child in self.visited
                                             else pal.map_open)
            mid = (a[0] + b[0]) // 2
            pygame.draw.lines(surface, colour, False, [a, (mid, a[1]), (mid, b[1]), b],
                              thick if lit else thin)
        radius = max(4, round(theme.px(9) * max(0.6, self.zoom)))
        label_font = theme.ui_font(0.6)
        open_font = theme.ui_font(0.58, "italic")
        labels = self._labels = {}
        width_limit = round(theme.px(COLUMN) * self.zoom) - theme.px(16)
        for node, (x, y) in screen.items():
            if not view.collidepoint((x, y)):
                continue
            scene = session.scene(node)
            mark = self.version_mark(node)
            if node in self.visited:
                fill = pal.accent if node in on_path else pal.map_node
                pygame.draw.circle(surface, fill, (x, y), radius)
                title = scene.title + (f"  ({len(scene.versions)} versions)"
                                       if len(scene.versions) > 1 else "")
                label = _clip(ctx, label_font, mark + title, width_limit)
                colour = pal.text if node in on_path else pal.dim
                image = ctx.text.render(label_font, label, colour)
                at = (x - image.get_width() // 2, y + radius + theme.px(3))
            else:
                colour = (220, 90, 90) if scene.status == SCENE_FAILED else pal.map_open
                pygame.draw.circle(surface, colour, (x, y), max(3, radius * 2 // 3), max(1, theme.px(2)))
                label = _clip(ctx, open_font, mark + scene.label, round(width_limit * 1.3))
                image = ctx.text.render(open_font, label, pal.dim)
                at = (x + radius + theme.px(6), y - image.get_height() // 2)
            surface.blit(image, at)
            labels[node] = pygame.Rect(at, image.get_size()).inflate(theme.px(6), theme.px(4))
            if node == session.current:
                pygame.draw.circle(surface, pal.text, (x, y), round(radius * 1.6), max(1, theme.px(2)))
            if node == self.selected or node == self.hover:
                pygame.draw.circle(surface, pal.accent, (x, y), round(radius * 2.1), max(1, theme.px(2)))
        self._draw_header(surface)
        if self.hover in screen:
            self._draw_tooltip(surface, self.hover, screen[self.hover])
        elif self.selected in screen and self.selected != session.current:
            self._draw_tooltip(surface, self.selected, screen[self.selected])

    def _draw_header(self, surface: pygame.Surface) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        told = len(self.visited)
        font = theme.ui_font(0.62)
        info = (f"{told} scenes visited  ·  click a scene to return to it, an open end to explore it"
                f"  ·  drag / wheel to pan, +/- zoom  ·  Esc or M to close")
        lines = ctx.text.wrap(font, info, surface.get_width() - theme.px(76))
        height = theme.px(58) + len(lines) * font.get_linesize()
        surface.blit(panel((surface.get_width(), height), pal.background + (250,)), (0, 0))
        surface.blit(gradient((surface.get_width(), theme.px(40)), pal.background + (250,),
                              pal.background + (0,)), (0, height))   # the tree passes under it
        surface.blit(ctx.text.render(theme.font("title", 26), "Story map", pal.accent),
                     (theme.px(36), theme.px(20)))
        y = theme.px(58)
        for line in lines:
            surface.blit(ctx.text.render(font, line, pal.dim), (theme.px(38), y))
            y += font.get_linesize()

    def _draw_tooltip(self, surface, node, pos) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        scene = app.session.scene(node)
        if node in self.visited:
            lines = [scene.title, f"reached by: {scene.label}" if scene.parent is not None else "the beginning"]
            if len(scene.versions) > 1:
                lines.append(f"{len(scene.versions)} versions")
        else:
            lines = [scene.label, "not yet explored" if scene.status != SCENE_FAILED else
                     f"failed: {scene.error[:80]}"]
        font = theme.ui_font(0.66)
        images = [ctx.text.render(font, line, pal.text if i == 0 else pal.dim) for i, line in enumerate(lines)]
        width = max(i.get_width() for i in images) + theme.px(20)
        height = sum(i.get_height() for i in images) + theme.px(14)
        x = min(pos[0] + theme.px(18), surface.get_width() - width - theme.px(8))
        y = min(pos[1] + theme.px(18), surface.get_height() - height - theme.px(8))
        surface.blit(panel((width, height), pal.panel[:3] + (240,), theme.px(6), pal.panel_edge), (x, y))
        for image in images:
            surface.blit(image, (x + theme.px(10), y + theme.px(7)))
            y += image.get_height()


_CLIPPED: dict = {}


def _clip(ctx, font, text: str, width: int) -> str:
    """Text cut with an ellipsis to fit width (remembered, so each label is measured once)."""
    key = (id(font), text, width)
    done = _CLIPPED.get(key)
    if done is not None:
        return done
    cut = text
    if ctx.text.width(font, cut) > width:
        while cut and ctx.text.width(font, cut + "...") > width:
            cut = cut[:-2] if len(cut) > 12 else cut[:-1]
        cut = cut.rstrip() + "..."
    if len(_CLIPPED) > 5000:
        _CLIPPED.clear()
    _CLIPPED[key] = cut
    return cut
