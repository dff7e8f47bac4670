"""Helpers for driving the game headless: synthetic events, fake backends, settling frames."""

from __future__ import annotations

import time

import pygame
from PIL import Image

from engine.session.jobs import InlineRunner
from engine.story.schema import ChoiceDraft, SceneDraft

IMAGE_COLOUR = (40, 160, 90)   # what FakePainter paints (tinted a little by the seed)


class FakePainter:
    """Paints a flat colour at once (the protocol: id, model, steps, paint)."""

    id = "fake"
    model = "flat-v1"
    steps = 1

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.calls = 0

    def paint(self, prompt, seed, size, on_progress=None):
        self.calls += 1
        if self.delay:
            end = time.perf_counter() + self.delay
            while time.perf_counter() < end:
                if on_progress:
                    on_progress(1 - (end - time.perf_counter()) / self.delay)
                time.sleep(min(0.05, self.delay))
        return Image.new("RGB", size, (IMAGE_COLOUR[0], IMAGE_COLOUR[1], IMAGE_COLOUR[2] + seed % 7))


class FailingNarrator:
    """A narrator whose model is broken: every call raises."""

    id = "broken"
    model = "nothing"

    def narrate(self, request, on_token=None):
        from engine.errors import NarratorError
        raise NarratorError("the model server did not answer (test)")


class BrokenPainter:
    """A painter whose model is broken: every picture fails."""

    id = "brokenpaint"
    model = "nothing"
    steps = 1

    def paint(self, prompt, seed, size, on_progress=None):
        raise RuntimeError("the painting model ran out of memory (test)")


class ScriptNarrator:
    """Tells numbered scenes with three choices, streaming word by word."""

    id = "script"
    model = "script-v1"

    def __init__(self, words: int = 60):
        self.words = words
        self.count = 0

    def narrate(self, request, on_token=None):
        self.count += 1
        words = [f"word{i}" + ("\n\n" if i % 12 == 11 else " ") for i in range(self.words)]
        narration = f"Scene {request.node} begins. {''.join(words).strip()}. The end."
        if on_token:
            for chunk in narration.split(" "):
                on_token(chunk + " ")
        return SceneDraft(title=f"Scene {request.node}", narration=narration,
                          choices=[ChoiceDraft(label=f"Option {c} of {request.node}", intent="explore")
                                   for c in "ABC"],
                          image_prompt=f"place {request.node}", mood="calm")


class PromptNarrator(ScriptNarrator):
    """Behaves like an LLM narrator: records the exact prompt it sent (request.extras), with
    indents, blank lines and a line too long for any window, and its token count."""

    id = "fakellm"
    model = "fake-llm-v1"

    def narrate(self, request, on_token=None):
        lines = [f"<|system|>\nYou narrate {request.world.title}. Scene {request.node}.", "",
                 "    indented   spacing   kept", "\t(tab)", "", "x" * 900]
        lines += [f"lore line {i}: the frost remembers scene {request.node}" for i in range(80)]
        request.extras["prompt"] = "\n".join(lines)
        request.extras["prompt_tokens"] = 1000 + request.node
        return super().narrate(request, on_token)


def key(code: int, mod: int = 0, text: str = "") -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=code, mod=mod, unicode=text, scancode=0)


def typed(text: str) -> pygame.event.Event:
    return pygame.event.Event(pygame.TEXTINPUT, text=text)


def motion(pos, buttons=(0, 0, 0)) -> pygame.event.Event:
    return pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=buttons)


def click(pos, button: int = 1) -> list[pygame.event.Event]:
    return [motion(pos),
            pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=button),
            pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=button)]


def wheel(y: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=y, flipped=False, precise_x=0.0,
                              precise_y=float(y))


def settle(app, frames: int = 8, dt: float = 1 / 60) -> None:
    """Run frames with no input (inline runners finish their work within a few)."""
    for _ in range(frames):
        app.step([], dt=dt, present=False)


def make_app(config, tmp_path, sound: bool = False, **options):
    """An opened App with inline runners; pictures are small so the image cache stays quick.
    Without `sound`, no music is composed and nothing is read aloud (the sound tests ask)."""
    from game.app import App
    config = config.with_changes(images={"width": 320, "height": 180})
    if not sound:
        config = config.with_changes(audio={"music": "none", "read_aloud": False})
    options.setdefault("painter", FakePainter())
    options.setdefault("runner_factory", InlineRunner)
    return App(config, settings_file=tmp_path / "user.toml", **options).open()


def start(app, world=None, frames: int = 8):
    """Begin a new story and let it be told and painted."""
    app.new_game(world)
    settle(app, frames)
    return app.session


def read_to_choices(app, limit: int = 30) -> None:
    """Click through the narration until the choices show."""
    for _ in range(limit):
        if app.story.choices_visible:
            return
        app.step([key(pygame.K_SPACE, text=" ")], dt=1 / 60, present=False)
    raise AssertionError("the choices never appeared")


def frame(app, path):
    """Draw one frame and save it; returns the pixels as a Surface read back from the PNG."""
    app.step([], dt=1 / 60, present=False)
    pygame.image.save(app.surface, str(path))
    return pygame.image.load(str(path))
