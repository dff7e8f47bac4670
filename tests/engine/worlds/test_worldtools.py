"""`dreamreel worlds`: validation finds every problem with its file and line; new worlds play."""

import argparse
import io
import shutil
from pathlib import Path

import pytest

from engine.errors import WorldError
from engine.session.jobs import InlineRunner
from engine.session.core import Session
from engine.worlds.validate import format_report, validate_world
from engine.worlds.loading import BUILTIN_WORLDS, load_world
from engine.worlds.tools import new_world, run
from game.cli.main import main


def _run(action, target, config, **flags):
    out = io.StringIO()
    code = run(action, target, argparse.Namespace(**flags), config, out)
    return code, out.getvalue()


def _scaffold(tmp_path: Path) -> Path:
    return new_world(str(tmp_path / "tale"), tmp_path / "unused")


def _where(report):
    return [(p.file, p.line, p.message) for p in report.errors]


@pytest.mark.parametrize("world_id", ["lantern_coast", "hollow_orbit"])
def test_shipped_worlds_validate_with_exit_0(world_id, config):
    code, text = _run("validate", world_id, config)
    assert code == 0, text
    assert "0 errors, 0 warnings" in text
    assert "approximate: characters / 4" in text


def test_every_problem_is_reported_at_once_with_file_and_line(tmp_path):
    root = _scaffold(tmp_path)
    world_toml = root / "world.toml"
    world_toml.write_text(world_toml.read_text().replace('start = "arrival"',
                                                         'start = "arrival"\nflavour = "salty"'))
    (root / "storylets" / "broken.toml").write_text(
        '[[storylet]]\n'                                   # 1
        'id = "cellar"\n'                                  # 2
        'title = "The {{ player.nick }}"\n'                # 3
        'colour = "red"\n'                                 # 4
        'text = "x"\n')                                    # 5
    (root / "storylets" / "templates.toml").write_text(
        '[[storylet]]\n'                                   # 1
        'id = "attic"\n'                                   # 2
        'title = "Attic"\n'                                # 3
        'when = "location ==="\n'                          # 4
        'text = """\n'                                     # 5
        'Dust.\n'                                          # 6
        '{{ characters.nobody.name }}\n'                   # 7
        '{% if visited(\'nowhere\') %}x{% endif %}\n'      # 8
        '{{ mystery }}\n'                                  # 9
        '"""\n'                                            # 10
        '[[storylet.choices]]\n'                           # 11
        'label = "Down"\n'                                 # 12
        'goto = "basement"\n'                              # 13
        '[[storylet.choices]]\n'                           # 14
        'label = "Out"\n'                                  # 15
        '\n'
        '[[storylet]]\n'                                   # 17
        'id = "loop"\n'                                    # 18
        'title = "Loop"\n'                                 # 19
        'text = "{% for i in inventory %}unclosed"\n'      # 20
        'ending = true\n')
    (root / "storylets" / "syntax.toml").write_text('[[storylet]]\nid = "x"\ntitle = "oops\n')
    report = validate_world(root)
    found = _where(report)
    expected = [
        ("world.toml", 9, "flavour: unknown key"),
        ("storylets/broken.toml", 2, "colour: unknown key"),
        ("storylets/syntax.toml", 3, "not valid TOML"),
        ("storylets/templates.toml", 2, "unknown storylet 'basement'"),
        ("storylets/templates.toml", 4, "is not valid"),
        ("storylets/templates.toml", 7, "'characters.nobody' does not exist"),
        ("storylets/templates.toml", 8, "visited('nowhere') names no storylet"),
        ("storylets/templates.toml", 9, "'mystery' is not a name"),
        ("storylets/templates.toml", 20, "Unexpected end of template"),
    ]
    for file, line, fragment in expected:
        assert any(f == file and n == line and fragment in m for f, n, m in found), \
            (file, line, fragment, found)
    assert all(p.hint for p in report.errors)
    assert not report.ok
    assert "FAILED" in format_report(report)


def test_a_broken_world_toml_is_reported_not_raised(tmp_path):
    root = _scaffold(tmp_path)
    (root / "world.toml").write_text('premise = "no title"\n\n[[characters]]\nid = "Bad Id"\n'
                                     'name = "B"\n')
    report = validate_world(root)
    messages = [str(p) for p in report.errors]
    assert any(m.startswith("world.toml, line 1: title: Field required") for m in messages)
    assert any(m.startswith("world.toml, line 4: characters.0.id") for m in messages)
    assert any("no start is set" in str(p) for p in report.warnings)


def test_warnings_are_listed_but_do_not_fail(tmp_path, config):
    root = _scaffold(tmp_path)
    with open(root / "storylets" / "story.toml", "a") as handle:
        handle.write('\n[[storylet]]\nid = "castle"\ntitle = "Castle"\n'
                     'when = "location == \'castle\'"\ntext = "Towers."\nending = true\n'
                     '\n[[storylet]]\nid = "brawl"\ntitle = "Brawl"\nintents = ["fight"]\n'
                     'text = "{% if has(\'sword\') %}Clang.{% endif %}"\nending = true\n')
    with open(root / "lore.toml", "a") as handle:
        handle.write('\n[[lore]]\nid = "dragons"\nkeywords = ["dragon"]\ntext = "Old."\n')
    code, text = _run("validate", str(root), config)
    assert code == 0, text
    report = validate_world(root)
    warnings = [str(p) for p in report.warnings]
    assert any("castle' can never be told" in w and "'castle'" in w for w in warnings)
    assert any("brawl': no choice leads here" in w for w in warnings)
    assert any("sword" in w for w in warnings)
    assert any(w.startswith("lore.toml, line") and "dragons" in w for w in warnings)
    assert "warnings are hints and never do" in text


def test_prompt_overrides_are_rendered_and_checked(tmp_path):
    root = _scaffold(tmp_path)
    (root / "prompts" / "system.j2").write_text("You narrate {{ world.title }}.\n"
                                                "{{ world.titel }}\n")
    (root / "prompts" / "scene.j2").write_text("{% for x in recent %}\n{{ x.title }}\n")
    (root / "prompts" / "image.j2").write_text("{{ scene.image_prompt }}, {{ secret }}")
    (root / "prompts" / "sytem.j2").write_text("typo")
    report = validate_world(root)
    found = _where(report)
    assert ("prompts/system.j2", 2) in [(f, n) for f, n, m in found if "world.titel" in m]
    assert any(f == "prompts/scene.j2" and "Unexpected end" in m for f, n, m in found)
    assert any(f == "prompts/image.j2" and n == 1 and "'secret'" in m for f, n, m in found)
    assert any(f == "prompts/sytem.j2" and "not a prompt file Dreamreel uses" in m for f, n, m in found)
    assert "default prompts" in report.prompt_note


def test_a_good_override_is_measured(tmp_path):
    root = _scaffold(tmp_path)
    before = validate_world(root).prompt_tokens
    (root / "prompts" / "system.j2").write_text("Narrate {{ world.title }}. " + "Be vivid. " * 400)
    report = validate_world(root)
    assert report.ok, [str(p) for p in report.errors]
    assert before["system"] < 600 and report.prompt_tokens["system"] >= 1000
    assert report.prompt_tokens["total"] == report.prompt_tokens["system"] + \
        report.prompt_tokens["scene"]


def test_new_world_validates_cleanly_and_plays_to_its_ending(config):
    code, text = _run("new", "My Tale", config)
    path = config.worlds_dir / "my_tale"
    assert code == 0 and str(path) in text
    report = validate_world(path)
    assert report.ok and not report.warnings, format_report(report)
    world = load_world(str(path))
    assert len(world.storylets) >= 6 and any(s.spec.ending for s in world.storylets.values())
    session = Session.new(config.with_changes(game={"world": str(path), "painter": "none"}),
                          runner=InlineRunner())
    session.wait()
    titles = [session.scene().current.title]
    for _ in range(8):
        if session.ended:
            break
        session.choose(0)
        session.wait()
        titles.append(session.scene().current.title)
    assert titles[0] == "Home at Dusk"
    assert session.ended and titles[-1] == "Beyond the Gate", titles
    assert "Rowan" in session.scene().current.narration


def test_new_refuses_a_folder_that_is_not_empty(tmp_path, config):
    root = _scaffold(tmp_path)
    with pytest.raises(WorldError, match="already exists"):
        run("new", str(root), argparse.Namespace(), config, io.StringIO())


def test_list_shows_builtin_and_installed_worlds_with_titles(config):
    new_world("harbour_days", config.worlds_dir)
    shutil.copytree(BUILTIN_WORLDS / "hollow_orbit", config.worlds_dir / "hollow_orbit")
    code, text = _run("list", None, config)
    assert code == 0
    assert "lantern_coast" in text and "The Lantern Coast" in text
    assert "harbour_days" in text and "Harbour Days" in text
    assert "used instead of the built-in world" in text


def test_the_cli_returns_the_validation_exit_code(tmp_path, capsys):
    root = _scaffold(tmp_path)
    assert main(["worlds", "validate", str(root)]) == 0
    (root / "storylets" / "story.toml").write_text('[[storylet]]\nid = "x"\n')
    assert main(["worlds", "validate", str(root)]) == 1
    assert "storylets/story.toml" in capsys.readouterr().out
    assert main(["worlds", "validate", str(tmp_path / "nothing")]) == 2
