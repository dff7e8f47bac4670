"""Dreamreel's engine: story graph, state, narrators, painters, prompts, saves, jobs, Session.

Pure logic. It never imports pygame or the game package, and importing it loads no ML library:
torch, transformers and diffusers are imported lazily inside the backends that need them.

The public API, for front ends (the pygame game, the terminal, the command line): the names in
__all__ below, each imported on first use, plus the modules engine.config, engine.errors,
engine.events and engine.library. Front ends import nothing else of the engine (an
import-linter contract in the tests holds them to it); everything else is the engine's own.
"""

from __future__ import annotations

__version__ = "0.1.0"

# name -> (module, attribute): the public API, imported when first asked for, so that
# `import engine` stays cheap (no networkx, no pydantic models, no PIL until needed).
_PUBLIC = {
    "Session": ("engine.session.core", "Session"),
    "MAX_ACTION_CHARS": ("engine.session.core", "MAX_ACTION_CHARS"),  # a typed action's length
    "Library": ("engine.library", "Library"),
    "PLAYER_NAME_CHARS": ("engine.story.persona", "MAX_NAME"),          # a player's name
    "PLAYER_PRONOUNS_CHARS": ("engine.story.persona", "MAX_PRONOUNS"),  # their pronouns
    "PLAYER_LOOK_CHARS": ("engine.story.persona", "MAX_LOOK"),          # their look
    "InlineRunner": ("engine.session.jobs", "InlineRunner"),      # work runs inside poll()
    "ThreadedRunner": ("engine.session.jobs", "ThreadedRunner"),  # work runs on worker threads
    "JOB_DONE": ("engine.session.jobs", "DONE"),                  # a finished job's event kind
    "JOB_FAILED": ("engine.session.jobs", "FAILED"),              # a failed job's event kind
    "SCENE_READY": ("engine.story.graph", "READY"),               # a scene told and shown
    "SCENE_FAILED": ("engine.story.graph", "FAILED"),             # a scene the narrator failed
    "SlotBusy": ("engine.saves.slotlock", "SlotBusy"),            # another game has the slot open
    "SEED_MAX": ("engine.story.seeds", "SEED_MAX"),               # the largest story seed
    "reserve_cores_for_ui": ("engine.compute", "reserve_cores_for_ui"),
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    try:
        module, attribute = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'engine' has no attribute {name!r}") from None
    from importlib import import_module
    value = getattr(import_module(module), attribute)
    globals()[name] = value      # asked once: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
