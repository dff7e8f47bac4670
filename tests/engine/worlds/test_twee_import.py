"""Twee 3 read as a modder or a stranger writes it, and `worlds import story.twee` turning a
Twine story into storylets that validate and play: from Dreamreel's own export, and by hand."""

from __future__ import annotations

import argparse
import io
import re
import tomllib

import pytest
from PIL import Image

from engine.export.story import open_story
from engine.export.twee import export_twee
from engine.session.core import Session
from engine.session.jobs import InlineRunner
from engine.worlds.spec import ID_PATTERN
from engine.worlds.tools import run
from engine.worlds.twee import (TweeError, escape, parse_links, parse_twee, plain_text, read_twee,
                                unescape)
from engine.worlds.twine import MARKER
from engine.worlds.validate import validate_world
from tests.support.stories import play_a_story

HAND_WRITTEN = """\
:: StoryTitle
The Salt Mine


:: StoryData
{
  "ifid": "D674C58C-DEFA-4F70-B7A2-27742230C0FC",
  "format": "Harlowe",
  "format-version": "3.3.9",
  "start": "The Shaft Head"
}

:: The Shaft Head [tense location:mine_head dark-tunnels] {"position":"100,100"}
(set: $lamp to true)<img src="art/shaft.png" alt="the shaft">
The cage creaks in the wind. (if: $lamp)[Your lamp hisses.] {{ lore.secret }} {% raw %}
<!-- a note to myself -->
''Nobody'' goes down after dark.

* [[Ride the cage down->Gallery Four]]
* [[Ask the winchman|The Winchman]]
[[Leave->Nowhere Yet]]

:: Gallery Four [eerie]
Salt glitters on every wall. <<set $depth to 4>>You hear [[water]] somewhere.
[[Follow the sound->Gallery Four]]
[[Back up<-Climb back up]]

:: Back up
The daylight hurts your eyes.
[[Walk home->The Shaft Head]]

:: water
A black pool, perfectly still. Something glints below.

:: The Winchman [unwritten]
Unwritten: the story never went this way.

:: ../../x
Whoever named this passage hoped for a path.
[[Back->The Shaft Head]]
[[Down->Gallery Four]]

:: Setup [script]
window.alert("never run");
"""


def _import(tmp_path, file, into, config) -> tuple[int, str]:
    out = io.StringIO()
    code = run("import", str(file), argparse.Namespace(into=into), config, out)
    return code, out.getvalue()


def _storylets(folder) -> dict[str, dict]:
    tables = {}
    for path in sorted((folder / "storylets").glob("*.toml")):
        for table in tomllib.loads(path.read_text())["storylet"]:
            tables[table["id"]] = table
    return tables


def _play(config, folder, turns: int = 4) -> list[str]:
    """The storylets the scenes of a short play came from (the first choice each turn)."""
    session = Session.new(config.with_changes(game={"world": str(folder), "painter": "none"}),
                          runner=InlineRunner())
    try:
        session.wait()
        sources = [session.scene().current.source]
        for _ in range(turns):
            if not session.choices():
                break
            session.choose(0)
            session.wait()
            sources.append(session.scene().current.source)
        return sources
    finally:
        session.close()


# -- the Twee 3 reader ------------------------------------------------------------------------
def test_headers_tags_metadata_and_escapes():
    story = parse_twee(":: A \\[b\\] \\{c\\} d\\\\e [x y\\]z] {\"position\":\"10,20\"}\nText\n\n"
                       "::Plain\n\\:: not a header\n\n\n:: Bad meta {nope\n")
    first, second, third = story.passages
    assert first.name == "A [b] {c} d\\e" and first.tags == ("x", "y]z")
    assert first.metadata == {"position": "10,20"} and first.text == "Text"
    assert second.name == "Plain" and second.text == ":: not a header"
    assert third.name == "Bad meta" and third.metadata == {}
    assert any("line 8" in w and "metadata" in w for w in story.warnings)
    assert unescape(escape(" x[]{}\\ ")) == " x[]{}\\ "


def test_links_in_every_form():
    text = ("[[A]] [[go->B]] [[C<-back]] [[say|D]] [[x->y->E]] [[t|F][$x to 1]] "
            "[[web->https://x.org]] [[unclosed\n]]")
    links = parse_links(text)
    assert [(l.text, l.target) for l in links] == [
        ("A", "A"), ("go", "B"), ("back", "C"), ("say", "D"), ("x->y", "E"), ("t", "F"),
        ("web", "https://x.org")]
    assert links[-1].external and not links[0].external


@pytest.mark.parametrize("text, line, says", [
    ("Once upon a time\n:: Start\n", 1, "expected a passage header"),
    (":: Start\nok\n::  [tag]\n", 3, "without a name"),
    (":: Start [open\n", 1, "never closed"),
    (":: Start\n\n:: Start\n", 3, "first is on line 1"),
    (":: Start\nhello\x00world\n", 2, "control character"),
    (":: Start [a] junk\n", 1, "unexpected"),
])
def test_garbage_is_refused_with_its_line(text, line, says):
    with pytest.raises(TweeError, match=rf"story.twee, line {line}: .*{says}"):
        parse_twee(text)


def test_files_that_are_not_twee_are_refused(tmp_path):
    huge = tmp_path / "huge.twee"
    with huge.open("wb") as handle:
        handle.truncate(100_000_000)          # 100 MB, sparse: refused before it is read
    with pytest.raises(TweeError, match="over the 10000000 byte limit"):
        read_twee(huge)
    binary = tmp_path / "bin.twee"
    binary.write_bytes(b":: Start\nok\n\xff\xfe\x00garbage")
    with pytest.raises(TweeError, match="bin.twee, line 3: not UTF-8"):
        read_twee(binary)
    with pytest.raises(TweeError, match="no passages"):
        parse_twee("\n\n")


def test_plain_text_keeps_prose_and_nothing_that_runs():
    text = plain_text(HAND_WRITTEN.split(":: The Shaft Head")[1].split("::")[0]
                      .split("\n", 1)[1], drop_link_lines=True)
    assert text == "The cage creaks in the wind. Your lamp hisses.\nNobody goes down after dark."
    for nasty in ("{}}{ {{}}{ {%}%}", "{" * 50 + "}" * 3 + "{", "&#123;&#123; x }&#125;",
                  "{%}#}{#}%}", "{{{verbatim}}}"):
        assert not re.search(r"\{[{%#]|[}%#]\}", plain_text(nasty))   # nothing re-forms a tag


# -- worlds import ------------------------------------------------------------------------------
def test_an_exported_story_imports_validates_and_plays(config, tmp_path):
    config = play_a_story(config)
    session = open_story(config, "tale")
    try:
        twee = export_twee(session, tmp_path / "out" / "tale.twee")
        told = [s for s in session.graph.scenes() if s.current is not None]
        opening = session.scene(session.graph.root).current
    finally:
        session.close()
    folder = tmp_path / "coast"
    code, printed = _import(tmp_path, twee, folder, config)
    assert code == 0, printed
    assert "Next: dreamreel worlds validate" in printed.splitlines()[-1]
    report = validate_world(folder)
    assert report.ok, [str(p) for p in report.errors]
    tables = _storylets(folder)
    assert len(tables) == len(told)                     # one per told scene; retellings skipped
    start = tomllib.loads((folder / "world.toml").read_text())["start"]
    assert tables[start]["title"] == opening.title
    assert tables[start]["text"] == opening.narration.strip()
    pictures = sorted(p.name for p in (folder / "images").iterdir())
    assert pictures == sorted(t["image"].removeprefix("images/") for t in tables.values())
    for table in tables.values():
        for choice in table.get("choices", []):
            assert choice.get("goto", start) in tables
    sources = _play(config, folder)
    assert len(sources) == 5 and all(source in tables for source in sources)
    assert sources[0] == start and sources[1] == tables[start]["choices"][0]["goto"]
    code, printed = _import(tmp_path, twee, folder, config)      # again: replaced, not doubled
    assert code == 0 and _storylets(folder).keys() == tables.keys()
    assert len(list((folder / "storylets").iterdir())) == 1
    assert sorted(p.name for p in (folder / "images").iterdir()) == pictures


def test_a_hand_written_twine_story_imports_cleanly(config, tmp_path):
    source = tmp_path / "src"
    (source / "art").mkdir(parents=True)
    Image.new("RGB", (64, 48), (90, 120, 140)).save(source / "art" / "shaft.png")
    (tmp_path / "outside.png").write_bytes((source / "art" / "shaft.png").read_bytes())
    twee = source / "mine.tw"
    twee.write_text(HAND_WRITTEN.replace("The daylight", '<img src="../outside.png">The daylight'),
                    encoding="utf-8")
    folder = tmp_path / "mine"
    code, printed = _import(tmp_path, twee, folder, config)
    assert code == 0, printed
    tables = _storylets(folder)
    assert set(tables) == {"the_shaft_head", "gallery_four", "back_up", "water", "x"}
    head = tables["the_shaft_head"]
    assert head["text"] == ("The cage creaks in the wind. Your lamp hisses.\n"
                            "Nobody goes down after dark.")
    assert head["mood"] == "tense" and head["effects"] == {"location": "mine_head"}
    assert head["tags"] == ["dark tunnels"] and head["image"] == "images/shaft.png"
    assert [(c["label"], c.get("goto")) for c in head["choices"]] == [
        ("Ride the cage down", "gallery_four"), ("Ask the winchman", None), ("Leave", None)]
    assert tables["gallery_four"]["text"] == \
        "Salt glitters on every wall. You hear water somewhere."
    assert [(c["label"], c["goto"]) for c in tables["gallery_four"]["choices"]] == [
        ("water", "water"), ("Follow the sound", "gallery_four"), ("Climb back up", "back_up")]
    assert tables["water"]["ending"] is True and "choices" not in tables["water"]
    assert [c["label"] for c in tables["back_up"]["choices"]] == ["Walk home", "Look around"]
    assert re.match(ID_PATTERN, "x") and (folder / "storylets" / "the_salt_mine.toml").is_file()
    assert sorted(p.name for p in (folder / "images").iterdir()) == ["shaft.png"]
    assert "outside.png' is not a PNG, JPEG or WebP file in the story's folder" in printed
    assert "links to passages that do not exist, left to the narrator: 'The Shaft Head' " \
        "(line 13) to 'Nowhere Yet'\n" in printed
    assert "passages with one link (a second choice, 'Look around', is left to the narrator): " \
        "'Back up'\n" in printed
    world = tomllib.loads((folder / "world.toml").read_text())
    assert world == {"title": "The Salt Mine", "start": "the_shaft_head"}
    assert validate_world(folder).ok
    assert _play(config, folder, turns=1) == ["the_shaft_head", "gallery_four"]


def test_importing_into_an_existing_world_keeps_its_ids_and_start(config, tmp_path):
    folder = tmp_path / "world"
    run("new", str(folder), None, config, io.StringIO())
    before = (folder / "world.toml").read_text()
    taken = next(iter(_storylets(folder)))
    twee = tmp_path / "mine.twee"
    twee.write_text(f":: {taken}\nA clash of names.\n[[On->Next]]\n[[Off->Next]]\n\n"
                    ":: Next\nThe end.\n", encoding="utf-8")
    code, printed = _import(tmp_path, twee, folder, config)
    assert code == 0, printed
    assert (folder / "world.toml").read_text() == before
    mine = tomllib.loads((folder / "storylets" / "mine.toml").read_text())["storylet"]
    assert [t["id"] for t in mine] == [f"{taken}_2", "next"]
    assert {c["goto"] for c in mine[0]["choices"]} == {"next"}
    assert f'set start = "{taken}_2"' in printed
    assert validate_world(folder).ok
    (folder / "storylets" / "mine.toml").write_text("# my own storylets\n")
    with pytest.raises(Exception, match="was not made by an import"):
        _import(tmp_path, twee, folder, config)
    assert (folder / "storylets" / "mine.toml").read_text() == "# my own storylets\n"
    assert MARKER.startswith("# ")


def test_hostile_stories_are_refused_before_anything_is_written(config, tmp_path):
    huge = tmp_path / "huge.twee"
    with huge.open("wb") as handle:
        handle.truncate(100_000_000)
    with pytest.raises(TweeError, match="byte limit"):
        _import(tmp_path, huge, tmp_path / "w1", config)
    garbage = tmp_path / "garbage.twee"
    garbage.write_text(":: Start\nfine\n:: Start [a\n", encoding="utf-8")
    with pytest.raises(TweeError, match="garbage.twee, line 3"):
        _import(tmp_path, garbage, tmp_path / "w2", config)
    assert not (tmp_path / "w1").exists() and not (tmp_path / "w2").exists()
