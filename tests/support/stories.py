"""A played and saved story for the exporters' tests: a few turns, a retelling, a branch, a
typed action, on The Lantern Coast with the storylet narrator and small procedural pictures."""

from __future__ import annotations

from engine.session.core import Session
from engine.session.jobs import InlineRunner


def play_a_story(config, slot: str = "tale"):
    """Play and save a story with every kind of scene an exporter meets; returns its config.

    Four choices deep, the last scene told again (two versions), a step back and another
    choice, then a typed action: told scenes, a scene with two tellings, a typed scene and
    many choices never taken.
    """
    config = config.with_changes(game={"painter": "procedural", "world": "lantern_coast"},
                                 images={"width": 192, "height": 108})
    session = Session.new(config, runner=InlineRunner(), slot=slot)
    try:
        session.wait()
        for _ in range(4):
            session.choose(0)
            session.wait()
        session.regenerate()
        session.wait()
        session.back()
        session.choose(1)
        session.wait()
        session.act("light the lamp")
        session.wait()
        session.flush_saves()
    finally:
        session.close()
    return config
