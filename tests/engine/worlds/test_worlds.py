"""World loading: the shipped worlds are complete, broken worlds are reported precisely."""

import shutil
from pathlib import Path

import pytest

from engine.errors import WorldError
from engine.worlds.loading import BUILTIN_WORLDS, load_world


@pytest.mark.parametrize("world_id, storylets, endings", [("lantern_coast", 40, 3),
                                                           ("hollow_orbit", 15, 2)])
def test_shipped_worlds_load_cleanly(world_id, storylets, endings):
    world = load_world(world_id)
    assert world.problems == []
    assert len(world.storylets) >= storylets
    assert sum(s.spec.ending for s in world.storylets.values()) >= endings
    assert world.start in world.storylets


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "mine"
    shutil.copytree(BUILTIN_WORLDS / "hollow_orbit", target)
    return target


def test_a_broken_storylet_is_left_out_and_named(tmp_path):
    world_dir = _copy(tmp_path)
    (world_dir / "storylets" / "zz_broken.toml").write_text(
        '[[storylet]]\nid = "fine_one"\ntitle = "Fine"\ntext = "ok"\nending = true\n\n'
        '[[storylet]]\nid = "bad_one"\ntitle = "Bad"\ntext = "x"\nmood = "sleepy"\n'
        'colour = "red"\n')
    world = load_world(str(world_dir))
    assert "fine_one" in world.storylets and "bad_one" not in world.storylets
    messages = [str(p) for p in world.problems]
    assert any("storylets/zz_broken.toml, line 8" in m and "mood" in m for m in messages)
    assert any("colour" in m and "unknown key" in m for m in messages)


def test_invalid_toml_names_file_and_line(tmp_path):
    world_dir = _copy(tmp_path)
    (world_dir / "storylets" / "zz_bad.toml").write_text('[[storylet]]\nid = "x\n')
    world = load_world(str(world_dir))
    assert any("zz_bad.toml" in str(p) and "TOML" in str(p) for p in world.problems)


def test_a_broken_world_toml_stops_the_load_with_a_message(tmp_path):
    world_dir = _copy(tmp_path)
    (world_dir / "world.toml").write_text('title = "T"\nstart = "nowhere"\nflavour = 1\n')
    with pytest.raises(WorldError, match="flavour: unknown key"):
        load_world(str(world_dir))


def test_unknown_world_lists_the_known_ones():
    with pytest.raises(WorldError, match="lantern_coast"):
        load_world("atlantis")


def test_oversized_files_and_escaping_links_are_refused(tmp_path):
    world_dir = _copy(tmp_path)
    (world_dir / "storylets" / "huge.toml").write_text("# " + "x" * 1_100_000)
    outside = tmp_path / "outside.toml"
    outside.write_text('[[storylet]]\nid = "evil"\ntitle = "E"\ntext = "e"\nending = true\n')
    (world_dir / "storylets" / "link.toml").symlink_to(outside)
    world = load_world(str(world_dir))
    messages = " ".join(str(p) for p in world.problems)
    assert "huge.toml" in messages and "limit" in messages
    assert "outside the world folder" in messages
    assert "evil" not in world.storylets


@pytest.mark.parametrize("world_id", ["lantern_coast", "hollow_orbit"])
def test_shipped_worlds_answer_every_intent_with_several_reactions(world_id):
    from engine.worlds.spec import REACTION_KINDS
    world = load_world(world_id)
    for kind in REACTION_KINDS:
        answering = [r for r in world.reactions if kind in r.spec.intents]
        assert len(answering) >= 2, kind
        assert any(not r.spec.when for r in answering) or kind in ("talk", "help"), kind


def test_broken_reactions_are_left_out_and_named(tmp_path):
    world_dir = _copy(tmp_path)
    (world_dir / "reactions.toml").write_text(
        '[[reaction]]\nid = "fine"\ntext = "You {{ action }}."\n\n'
        '[[reaction]]\nid = "bad"\nintents = ["dance"]\ntext = "x"\n\n'
        '[[reaction]]\nid = "fine"\ntext = "again"\n\n[extra]\nx = 1\n')
    world = load_world(world_dir)
    assert [r.id for r in world.reactions] == ["fine"]
    messages = [str(p) for p in world.problems]
    assert any("reactions.toml, line 6" in m and "'bad'" in m and "nonsense" in m
               for m in messages), messages
    assert any("used twice" in m for m in messages)
    assert any("unknown table 'extra'" in m for m in messages)


def test_validate_renders_reactions_and_names_their_lines(tmp_path):
    from engine.worlds.validate import validate_world
    world_dir = _copy(tmp_path)
    (world_dir / "reactions.toml").write_text(
        '[[reaction]]\nid = "typo"\ntext = "You {{ acton }}."\n\n'
        '[[reaction]]\nid = "quiet"\nwhen = "target == \'petra\'"\ntext = "The ship hums."\n')
    report = validate_world(world_dir)
    assert any(p.file == "reactions.toml" and p.line == 3 and "acton" in p.message
               for p in report.errors), report.errors
    assert any("never names the player's action" in p.message for p in report.warnings)
    assert validate_world("lantern_coast").ok and validate_world("hollow_orbit").ok
