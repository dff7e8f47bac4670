"""image.j2 has one context, the documented one, in play and in `worlds validate` alike.

An override naming `{{ player.name }}` (a name of the shared context, docs/MODDING.md) once
validated clean and then failed in play with "'player' is undefined", because the game rendered
the template with a context of its own.
"""

from __future__ import annotations

import shutil

from engine.session.core import Session
from engine.session.jobs import InlineRunner
from engine.worlds.loading import BUILTIN_WORLDS, load_world
from engine.worlds.validate import validate_world

OVERRIDE = ("{{ player.name }}, {{ player.role }}, at {{ scene.image_prompt or scene.title }}"
            "{% for c in characters %}, {{ c.name }}: {{ c.appearance }}{% endfor %}"
            " (scene {{ depth }}, {{ location or 'nowhere' }}, {{ scene.mood }}), "
            "{{ world.art_style }}")


def world_with_override(tmp_path):
    root = tmp_path / "lantern_coast"
    shutil.copytree(BUILTIN_WORLDS / "lantern_coast", root)
    (root / "prompts").mkdir(exist_ok=True)
    (root / "prompts" / "image.j2").write_text(OVERRIDE)
    return root


def test_the_override_validates_clean(tmp_path):
    report = validate_world(world_with_override(tmp_path))
    assert not [p for p in report.errors if "image.j2" in str(p)], report.errors


def test_the_override_renders_in_play_with_the_same_names(config, tmp_path):
    world = load_world(str(world_with_override(tmp_path)))
    session = Session.new(config.with_changes(game={"painter": "none"}), world=world,
                          runner=InlineRunner())
    try:
        events = session.wait()
        for _ in range(3):
            session.choose(0)
            events += session.wait()
        prompt = session.image_prompt()
        player = world.spec.player.name
        assert player and prompt.startswith(f"{player}, {world.spec.player_role}, at ")
        assert f"(scene {session.state().depth}, " in prompt
        assert world.spec.art_style in prompt
        assert not [e for e in events if "image.j2" in str(e.payload)], events
        present = [c for c in session.state().present if c in session.characters]
        for character in present[:3]:
            assert session.characters[character] in prompt   # the recorded appearance
    finally:
        session.close()
