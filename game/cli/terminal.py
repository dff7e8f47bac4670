"""Terminal play: the story in a terminal or a script, one line of input per turn.

Prints each scene (title, narration, numbered choices) and reads a line from stdin: a number
(ASCII digits) picks that choice; `:back`, `:regen`, `:alt N`, `:save NAME`, `:load NAME`,
`:prompt`, `:help`, `:quit`; any other text is a free-text action. Every notice and error the
Session makes (hot reload, autosave failures and recoveries, saves, narrator and painter
failures) is printed as it arrives, errors after '! '. At end of input it autosaves and exits 0.
Same seed and same input give the same transcript. Drives only the Session; never imports pygame.
"""

from __future__ import annotations

import io
import os
import re
import sys
import textwrap
import time
from typing import TextIO

from engine import InlineRunner, Session
from engine.errors import DreamreelError
from engine.events import EventKind

MAX_LINE = 4096   # characters read from one input line; the rest of a longer line is dropped
WIDTH = 78
NUMBER = re.compile(r"[0-9]{1,9}")   # a choice or version number: ASCII digits only ('²' is not)
HELP = """Commands: a number picks a choice; any other text is your own action.
  :back  roll back one scene      :regen  tell this scene again
  :alt N show version N           :save NAME / :load NAME
  :prompt show the narrator's prompt for this scene
  :narrator SPEC  tell the story with another narrator (e.g. :narrator storylets)
  :state what you carry and know, and what the world reads in you
  :help  this text                :quit  save and leave"""


class TerminalGame:
    """Reads commands, drives the Session, prints scenes."""

    def __init__(self, session: Session, out: TextIO, interactive: bool):
        self.session = session
        self.out = out
        self.interactive = interactive
        self.gone = False        # the reader of our output went away (e.g. `| head`)
        self.shown_at: float | None = None   # when the choices were printed (for their pace)

    def say(self, text: str = "", end: str = "\n") -> None:
        if self.gone:
            return
        try:
            self.out.write(text + end)
            self.out.flush()
        except BrokenPipeError:
            self.gone = True     # play stops quietly; the story is still saved
            silence(self.out)

    def tell_notices(self, events: list | None = None) -> list:
        """Print the notices and errors among events (default: the Session's poll()), in order."""
        events = self.session.poll() if events is None else events
        for event in events:
            if event.is_message:
                self.say(f"! {event.payload}" if event.kind == EventKind.ERROR
                         else str(event.payload))
        return events

    def show_scene(self) -> None:
        session = self.session
        events = self.tell_notices(session.wait())
        scene = session.scene()
        if scene.current is None:
            if not any(event.kind == EventKind.ERROR for event in events):
                self.say(f"! {scene.error or 'This scene could not be told.'}")
            self.say("  Type :regen to try again, :back, or :narrator storylets to go on with "
                     "the built-in narrator.")
            return
        version = scene.current
        self.say("")
        self.say(f"== {version.title} ==")
        for paragraph in version.narration.split("\n\n"):
            self.say(textwrap.fill(" ".join(paragraph.split()), WIDTH))
            self.say("")
        if len(scene.versions) > 1:
            self.say(f"(version {scene.active + 1} of {len(scene.versions)}; :alt N to switch)")
        if version.ending:
            self.say("*** THE END ***  (:back to choose differently, :quit to leave)")
            return
        for number, choice in enumerate(session.choices(), start=1):
            self.say(f"  {number}. {choice.label}")
        self.shown_at = time.monotonic()

    def _pace(self) -> float | None:
        """Seconds since the choices were printed, when a person is typing (a script's
        instant answers say nothing about how a player chooses)."""
        if not self.interactive or self.shown_at is None:
            return None
        return time.monotonic() - self.shown_at

    def handle(self, line: str) -> bool:
        """Apply one input line. Returns False when the player quits."""
        session = self.session
        if line.startswith(":"):
            command, _, argument = line[1:].partition(" ")
            command, argument = command.lower(), argument.strip()
            if command in ("quit", "q", "exit"):
                return False
            if command == "help":
                self.say(HELP)
            elif command == "back":
                if not session.back():
                    self.say("! You are at the beginning of the story.")
                self.show_scene()
            elif command in ("regen", "regenerate"):
                session.regenerate()
                self.show_scene()
            elif command == "alt":
                self._alt(argument)
            elif command == "save":
                session.save(argument or session.slot)    # says so (a notice) or raises
            elif command == "load":
                self._load(argument)
            elif command == "prompt":
                self._prompt()
            elif command == "narrator":
                session.switch_narrator(argument or "storylets")
                self.show_scene()
            elif command == "state":
                for fact in session.state().facts():
                    self.say(f"  {fact}")
                self._player_model()
            else:
                self.say(f"! Unknown command ':{command}'. Type :help.")
            return True
        if NUMBER.fullmatch(line):
            session.choose(int(line) - 1, seconds=self._pace())
        elif line.isascii() and line.isdigit():       # more digits than any story has choices
            raise DreamreelError(f"There is no choice {line[:9]}...; type a choice's number.")
        else:
            session.act(line, seconds=self._pace())
        self.show_scene()
        return True

    def _player_model(self) -> None:
        """What the game believes about the player (the player model), or that it is off."""
        profile = self.session.player_profile()
        if profile is None:
            self.say("  The world reads you: off ([game] player_model)")
            return
        self.say("  The world reads you:")
        for heading, text in profile.rows():
            self.say(f"    {heading}: {text}")

    def _alt(self, argument: str) -> None:
        scene = self.session.scene()
        if not NUMBER.fullmatch(argument) or not 1 <= int(argument) <= len(scene.versions):
            self.say(f"! Give a version number from 1 to {len(scene.versions)}.")
            return
        self.session.select_version(int(argument) - 1)
        self.show_scene()

    def _load(self, name: str) -> None:
        if not name:
            self.say("! Name the slot to load: :load NAME")
            return
        old = self.session
        old.flush_saves()
        self.tell_notices()
        new = Session.resume(old.config, name, narrator=old.narrator, painter=old.painter,
                             runner=InlineRunner() if isinstance(old.runner, InlineRunner) else None,
                             slot=None, read_only=old.read_only)   # it goes on in its own slot
        old.close()                    # its workers, saver thread and hold on the slot end here
        self.session = new
        self.say(f"Loaded slot '{name}'.")
        self.show_scene()

    def _prompt(self) -> None:
        info = self.session.prompt_for()
        if not info:
            self.say(f"(The {self.session.narrator.id} narrator wrote this scene without a "
                     f"prompt; prompts exist for LLM narrators.)")
            return
        self.say(f"--- prompt ({info.get('prompt_tokens', '?')} tokens) ---")
        self.say(info["prompt"])
        self.say("--- end of prompt ---")


def read_line(stream: TextIO) -> str | None:
    """One input line, capped in length; None at end of input."""
    line = stream.readline(MAX_LINE)
    if line == "":
        return None
    if not line.endswith("\n") and len(line) >= MAX_LINE:
        while True:  # drop the rest of an enormous line
            rest = stream.readline(MAX_LINE)
            if rest == "" or rest.endswith("\n"):
                break
    return "".join(ch for ch in line if ch.isprintable() or ch == "\t").strip()


def play_text(session: Session, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run terminal play until :quit or end of input. Returns the exit code (0)."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    if hasattr(stdin, "reconfigure"):
        stdin.reconfigure(errors="replace")
    interactive = stdin.isatty()
    game = TerminalGame(session, out, interactive)
    world = session.world
    game.say(f"~ {world.title} ~")
    if world.spec.premise:
        game.say(textwrap.fill(world.spec.premise, WIDTH))
    for problem in world.problems:
        game.say(f"! World problem (this part is left out until fixed): {problem}")
    game.say("(Type :help for commands.)")
    game.show_scene()
    try:
        while True:
            if interactive:
                game.say("> ", end="")
            line = read_line(stdin) if not game.gone else None
            if line is None:
                break
            if not interactive:
                game.say(f"> {line}")
            if not line:
                continue
            # The picture of the scene just read is finished before moving on, so a scripted
            # run paints (and caches) every scene it visits.
            game.tell_notices(game.session.wait(images=game.session.painter.id != "none"))
            try:
                if not game.handle(line):
                    break
            except DreamreelError as err:
                game.say(f"! {err}")
            game.tell_notices()
    except KeyboardInterrupt:
        game.say("")
    finally:
        session = game.session
        game.tell_notices(session.wait(timeout=30, images=session.painter.id != "none"))
        session.autosave()
        saved = session.flush_saves()
        game.tell_notices()
        if session.read_only:
            game.say("(A read-only copy: nothing was autosaved. :save NAME keeps it in a slot "
                     "of its own.)")
        elif saved:
            game.say(f"(Autosaved to slot '{session.slot}'.)")
        else:
            game.say(f"! Not autosaved: {session.save_problem}")
        session.close()
        game.tell_notices()
    return 0


def silence(out: TextIO) -> None:
    """Point a closed pipe's file descriptor at the null device, so that later writes and the
    interpreter's final flush do not raise again (the advice of Python's signal docs)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass
