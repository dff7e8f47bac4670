"""The narrator protocol, the request every narrator receives, and narrator specs.

A narrator turns a request (world, state, the player's action, recent scenes, seed) into a
SceneDraft. Backends are one-method objects, picked by a spec string: `storylets`,
`transformers:<hub id or path>`, `openai:<model>@<base url>`. Heavy backends are imported only
when their spec is used, so importing this package stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from engine.errors import NarratorError
from engine.story.memory import RecentScene  # noqa: F401  (part of the narrator protocol)
from engine.story.persona import Persona
from engine.story.player_model import PlayerProfile
from engine.story.schema import SceneDraft
from engine.story.state import WorldState
from engine.worlds.world import World

TokenCallback = Callable[[str], None]


@dataclass(frozen=True)
class Action:
    """What the player did: a choice they picked or words they typed."""

    label: str
    intent: str = "explore"
    goto: str = ""            # storylet hint of an authored choice
    free_text: bool = False   # True when typed by the player
    opening: bool = False     # True for the first scene of a story


@dataclass(frozen=True)
class NarrationRequest:
    """Everything a narrator may use to tell the next scene."""

    world: World
    state: WorldState                 # the world state before the new scene
    action: Action
    seed: int
    node: int
    recent: tuple[RecentScene, ...] = ()   # oldest first, the last few scenes of the path
    summary: str = ""                      # rolling summary of older scenes
    author_note: str = ""                  # the player's standing instruction to the narrator
    # What the game believes about the player (engine.story.player_model.PlayerProfile) when
    # they took this action; None while the player model is off.
    player_model: PlayerProfile | None = None
    # The player's profile (name, pronouns, look; engine.story.persona): the `player` name of
    # every template. None: the world's suggestions (tools that narrate without a story).
    player: Persona | None = None
    extras: dict = field(default_factory=dict)  # backend-specific hints (never required)


class Narrator(Protocol):
    """One method: tell a scene. `on_token` receives text as it is produced and may raise
    JobCancelled to stop the narrator early."""

    id: str
    model: str

    def narrate(self, request: NarrationRequest,
                on_token: TokenCallback | None = None) -> SceneDraft: ...


def parse_options(options_class, options: dict, backend: str, error=None,
                  noun: str = "narrator"):
    """A frozen options dataclass from keyword options, converting strings (from a command line
    or config) to the fields' types. Unknown names and bad values raise `error` (NarratorError
    by default; a painter passes PainterError and noun="painter")."""
    error = error or NarratorError
    from dataclasses import fields
    known = {f.name for f in fields(options_class)}
    defaults = options_class()
    values = {}
    for name, value in options.items():
        if name not in known:
            raise error(f"Unknown {backend} {noun} option '{name}'. "
                        f"Known: {', '.join(sorted(known))}.")
        kind = type(getattr(defaults, name))
        try:
            if kind is bool and isinstance(value, str):
                value = value.strip().lower() in ("1", "true", "yes", "on")
            values[name] = kind(value)
        except (TypeError, ValueError):
            raise error(f"{noun.capitalize()} option {name}={value!r} is not a valid "
                        f"{kind.__name__}.") from None
    return options_class(**values)


def split_spec(spec: str) -> tuple[str, dict[str, str]]:
    """A spec and the options written after it as a query: `SPEC?key=value&key=value`.

    `openai:smollm2@http://127.0.0.1:8080/v1?min_p=0.1&dry_multiplier=0.8` gives the spec
    without the query and {"min_p": "0.1", "dry_multiplier": "0.8"}. A `?` not followed by
    key=value pairs is part of the spec (a folder name may hold one).
    """
    head, mark, query = spec.rpartition("?")
    if not mark or not query:
        return spec, {}
    pairs = [part.partition("=") for part in query.split("&") if part]
    if not pairs or any(not key.strip() or not eq for key, eq, _ in pairs):
        return spec, {}
    return head, {key.strip(): value.strip() for key, _, value in pairs}


def make_narrator(spec: str, **options) -> Narrator:
    """Build a narrator from its spec string; raises NarratorError with the valid forms.

    Options come from the caller (the config's [narrator] table) and from a query after the
    spec (`SPEC?temperature=0.7&min_p=0.1`); the spec's own win.
    """
    spec, inline = split_spec(spec)
    options = {**options, **inline}
    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "storylets":
        from engine.narrators.storylets import StoryletNarrator
        return StoryletNarrator()   # it has no options: a shared [narrator] table is ignored
    if kind == "transformers" and rest:
        try:
            from engine.narrators.hf import TransformersNarrator
        except ImportError as err:
            raise NarratorError(_missing_ml(err)) from None
        return TransformersNarrator(rest, **options)
    if kind == "openai" and rest:
        from engine.narrators.openai_compat import OpenAINarrator
        return OpenAINarrator.from_spec(rest, **options)
    raise NarratorError(f"Unknown narrator '{spec}'. Use 'storylets', "
                        f"'transformers:<hub id or folder>' or 'openai:<model>@<base url>'.")


def _missing_ml(err: ImportError) -> str:
    return (f"The transformers narrator needs the ML extras ({err.name or err} is missing). "
            f"Install them with: pip install -e '.[ml]'  — or play with --narrator storylets.")
