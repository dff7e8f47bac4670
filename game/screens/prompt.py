"""The prompt inspector: the exact prompt the narrator was given for the current scene.

Opens over the story with P. LLM narrators (transformers, openai) record the prompt they sent,
template markup and all, with its token count (Session.prompt_for); it is shown line for line, with
its whitespace, wrapped only where a line is wider than the panel. The storylet narrator has no
prompt, and the inspector says so plainly. The wheel, arrows, Page Up/Down and Home/End scroll;
Esc, P or a right click closes. Reads the Session only; changes nothing.
"""

from __future__ import annotations

import pygame

from engine import SCENE_FAILED
from game.screens.base import Screen
from game.ui.render import panel

STORYLET_MESSAGE = ("The storylet narrator tells this scene from the world's storylets; there is "
                    "no prompt. Prompts exist for LLM narrators: --narrator transformers:... or "
                    "openai:...")


def hard_wrap(text: str, font: pygame.font.Font, width: int) -> list[str]:
    """The text's lines exactly as written (spaces, indents, blank lines kept), each cut where it
    is wider than `width`, after a space when there is one in its second half."""
    out: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = "".join(ch if ch.isprintable() else "\ufffd" for ch in raw.expandtabs(4))
        if not line:
            out.append("")
            continue
        while line:
            if font.size(line)[0] <= width:
                out.append(line)
                break
            low, high = 1, len(line)             # the longest prefix that fits
            while low < high:
                middle = (low + high + 1) // 2
                if font.size(line[:middle])[0] <= width:
                    low = middle
                else:
                    high = middle - 1
            cut = low
            space = line.rfind(" ", 0, cut)
            if space >= cut // 2:
                cut = space + 1
            out.append(line[:cut])
            line = line[cut:]
    return out


def describe_prompt(session) -> tuple[str, dict | None]:
    """What the inspector shows for the current scene: (explanation, prompt entry or None)."""
    entry = session.prompt_for(session.current)
    if entry and isinstance(entry.get("prompt"), str):
        return "", entry
    scene = session.scene()
    author = scene.current.author if scene.current is not None else ""
    told_by = author.partition(":")[0] if author else session.narrator.id
    if session.waiting and session.narrator.id != "storylets":
        return (f"The {session.narrator.id} narrator is telling this scene; its prompt shows "
                f"here as soon as it is done."), None
    if told_by == "storylets":
        return STORYLET_MESSAGE, None
    if scene.status == SCENE_FAILED:
        return (f"The {session.narrator.id} narrator failed before it built a prompt for this "
                f"scene: {scene.error}"), None
    return ("No prompt is recorded for this scene. Prompts are kept for the scenes an LLM "
            "narrator tells while the game is open; they are not part of saves."), None


def _has_prompts(author: str) -> bool:
    return bool(author) and author.partition(":")[0] != "storylets"


def prompt_author(session) -> str:
    """Who the shown prompt was given to. A prompt is kept per scene, so after a retelling by
    the storylet narrator it belongs to an earlier telling: say so, never 'storylets'."""
    scene = session.scene()
    if session.waiting and session.narrator.id != "storylets":
        return f"{session.narrator.id}:{session.narrator.model} (telling it now)"
    author = scene.current.author if scene.current is not None else ""
    if _has_prompts(author):
        return author
    earlier = [i for i, v in enumerate(scene.versions) if _has_prompts(v.author)]
    if earlier:
        return (f"{scene.versions[earlier[-1]].author} (version {earlier[-1] + 1}; the version "
                f"shown was told by {author.partition(':')[0] or 'another narrator'})")
    return "an earlier language-model telling"


class PromptScreen(Screen):
    overlay = True

    def tint(self, palette):
        return palette.background + (255,)

    def __init__(self, app):
        super().__init__(app)
        self.lines: list[str] = []
        self.message = ""
        self.entry: dict | None = None
        self.scroll = 0
        self.rect = pygame.Rect(0, 0, 0, 0)
        self._key = None

    # -- content ----------------------------------------------------------------------------
    def _font(self) -> pygame.font.Font:
        return self.app.theme.ui_font(0.72)

    def _line_height(self) -> int:
        return self._font().get_linesize()

    def refresh(self, force: bool = False) -> None:
        """Read the current scene's prompt again if it changed (e.g. the narrator finished)."""
        session = self.app.session
        if session is None:
            self.message, self.entry, self.lines = "There is no story yet.", None, []
            return
        message, entry = describe_prompt(session)
        key = (session.current, id(entry), message, self.rect.size)
        if key == self._key and not force:
            return
        self._key = key
        self.message, self.entry = message, entry
        if entry is not None:
            self.lines = hard_wrap(entry["prompt"], self._font(), self.inner.width)
        else:
            self.lines = self.app.text.wrap(self.app.theme.font("text"), message,
                                            self.inner.width)
        self.scroll = min(self.scroll, self.max_scroll)

    @property
    def inner(self) -> pygame.Rect:
        theme = self.app.theme
        pad = theme.px(28)
        return pygame.Rect(self.rect.x + pad, self.rect.y + theme.px(84),
                           self.rect.width - 2 * pad, self.rect.height - theme.px(104))

    @property
    def content_height(self) -> int:
        if self.entry is None:
            return len(self.lines) * self.app.theme.font("text").get_linesize()
        return len(self.lines) * self._line_height()

    @property
    def max_scroll(self) -> int:
        return max(0, self.content_height - self.inner.height)

    def scroll_by(self, pixels: int) -> None:
        self.scroll = max(0, min(self.max_scroll, self.scroll + pixels))

    # -- screen -----------------------------------------------------------------------------
    def layout(self, size) -> None:
        theme = self.app.theme
        margin_x = max(theme.px(50), (size[0] - theme.px(1100)) // 2)
        self.rect = pygame.Rect(margin_x, theme.px(30), size[0] - 2 * margin_x,
                                size[1] - theme.px(60))
        self.refresh(force=True)

    def update(self, dt: float) -> None:
        self.refresh()

    def handle(self, event) -> None:
        step = self._line_height() * 3
        page = max(step, self.inner.height - step)
        if event.type == pygame.MOUSEWHEEL:
            self.scroll_by(-event.y * step)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 3:
            self.app.pop()
        elif event.type == pygame.KEYDOWN:
            key = event.key
            if key in (pygame.K_ESCAPE, pygame.K_p):
                self.app.pop()
            elif key == pygame.K_UP:
                self.scroll_by(-step)
            elif key == pygame.K_DOWN:
                self.scroll_by(step)
            elif key == pygame.K_PAGEUP:
                self.scroll_by(-page)
            elif key in (pygame.K_PAGEDOWN, pygame.K_SPACE):
                self.scroll_by(page)
            elif key == pygame.K_HOME:
                self.scroll = 0
            elif key == pygame.K_END:
                self.scroll = self.max_scroll

    def draw(self, surface: pygame.Surface) -> None:
        app, theme = self.app, self.app.theme
        pal, ctx = theme.palette, app.ctx
        surface.blit(panel(self.rect.size, pal.panel[:3] + (min(255, pal.panel[3] + 40),),
                           theme.px(12), pal.panel_edge), self.rect)
        x = self.rect.x + theme.px(28)
        surface.blit(ctx.text.render(theme.font("title", 26), "Prompt", pal.accent),
                     (x, self.rect.y + theme.px(16)))
        hint = ctx.text.render(theme.ui_font(0.62), "wheel / arrows / PgUp PgDn to scroll  ·  "
                               "Esc or P to close", pal.dim)
        surface.blit(hint, (self.rect.right - theme.px(28) - hint.get_width(),
                            self.rect.y + theme.px(28)))
        inner = self.inner
        clip = surface.get_clip()
        surface.set_clip(pygame.Rect(x, self.rect.y, inner.width, self.rect.height))
        surface.blit(ctx.text.render(theme.ui_font(0.66), self._summary(), pal.text),
                     (x, self.rect.y + theme.px(56)))
        surface.set_clip(clip)
        if self.entry is None:
            font = theme.font("text")
            y = inner.y
            for line in self.lines:
                surface.blit(ctx.text.render(font, line, pal.text), (inner.x, y))
                y += font.get_linesize()
            return
        font, height = self._font(), self._line_height()
        clip = surface.get_clip()
        surface.set_clip(inner)
        first = self.scroll // height
        y = inner.y - self.scroll + first * height
        for line in self.lines[first:]:
            if y > inner.bottom:
                break
            if line.strip():
                surface.blit(ctx.text.render(font, line, pal.text), (inner.x, y))
            y += height
        surface.set_clip(clip)
        if self.max_scroll > 0:   # a scroll bar
            track = pygame.Rect(self.rect.right - theme.px(14), inner.y, theme.px(4), inner.height)
            knob = max(theme.px(20), inner.height * inner.height // max(1, self.content_height))
            knob_y = inner.y + (inner.height - knob) * self.scroll // max(1, self.max_scroll)
            surface.blit(panel(track.size, (255, 255, 255, 40), theme.px(2)), track)
            surface.blit(panel((track.width, knob), pal.accent + (200,), theme.px(2)),
                         (track.x, knob_y))

    def _summary(self) -> str:
        """The line under the heading: which scene, which narrator, how many tokens."""
        session = self.app.session
        if session is None:
            return ""
        scene = session.scene()
        title = scene.title if scene.current is not None else (scene.label or "the opening")
        title = title if len(title) <= 48 else title[:47].rstrip() + "..."
        parts = [f"scene: {title}"]
        if self.entry is not None:
            tokens = self.entry.get("prompt_tokens")
            parts.append(f"{tokens} tokens" if isinstance(tokens, int) else "token count unknown")
            parts.append(f"{len(self.entry['prompt'])} characters")
            parts.append(f"narrator: {prompt_author(session)}")
        return "  ·  ".join(parts)


__all__ = ["PromptScreen", "describe_prompt", "hard_wrap", "prompt_author", "STORYLET_MESSAGE"]
