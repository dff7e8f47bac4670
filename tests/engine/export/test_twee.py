"""A played story exported as Twee 3: the whole graph, parsed back with the same passages and
links, names escaped and unique, StoryData valid, pictures beside it, nothing left on cancel."""

from __future__ import annotations

import html
import re

import pytest
from PIL import Image

from engine.errors import DreamreelError, JobCancelled
from engine.export.story import open_story
from engine.export.twee import (PlannedPassage, export_twee, link_label, plan_passages, prose,
                                render_passage, unique_name)
from engine.worlds.twee import parse_twee, read_twee
from engine.worlds.twee import plain_text
from tests.support.stories import play_a_story

IFID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$")
TRICKY = "The [Old] {Keeper} \\ Gate"


@pytest.fixture
def story(config):
    """A saved story opened for export (read only), closed after the test."""
    config = play_a_story(config)
    session = open_story(config, "tale")
    yield session
    session.close()


def _expected(session):
    """From the graph itself: told scenes, their other tellings, and never-told choices."""
    scenes = list(session.graph.scenes())
    told = [s for s in scenes if s.current is not None]
    return (len(told), sum(len(s.versions) - 1 for s in told),
            len([s for s in scenes if s.current is None]))


def test_the_whole_graph_parses_back_with_the_same_passages_and_links(story, tmp_path):
    out = export_twee(story, tmp_path / "tale.twee")
    parsed = read_twee(out)
    told, retold, unwritten = _expected(story)
    assert retold >= 1 and unwritten >= 3                     # the story has all three kinds
    assert len(parsed.passages) == 2 + told + retold + unwritten   # + StoryTitle, StoryData
    names = [p.name for p in parsed.passages]
    assert len(set(names)) == len(names)
    plan = {p.name: p for p in plan_passages(story)}
    assert set(names) == set(plan) | {"StoryTitle", "StoryData"}
    for passage in parsed.passages[2:]:
        planned = plan[passage.name]
        links = [(html.unescape(link.text), link.target) for link in passage.links]
        assert links == [(html.unescape(label), target) for label, target in planned.links]
        assert all(target in plan for _, target in links)           # no broken link
        node, version = planned.key
        if version < 0:
            assert passage.tags == ("unwritten",) and not passage.links
            assert "Unwritten" in passage.text
            continue
        scene = story.scene(node)
        choices = [c for c in story.graph.children(node) if c.parent_version == version]
        others = len(scene.versions) - 1 if version == scene.active else 0
        assert len(passage.links) == len(choices) + others
        assert [html.unescape(link.text) for link in passage.links][:len(choices)] == \
            [c.label for c in choices]
        assert plain_text(passage.text, drop_link_lines=True) == \
            scene.versions[version].narration.strip()
        assert scene.versions[version].mood in passage.tags
    kinds = [p.tags[0] for p in parsed.passages[2:]]
    assert kinds.count("opening") == 1 and "typed" in kinds and "unwritten" in kinds
    assert any("retelling" in p.tags for p in parsed.passages)
    assert any(t.startswith("location:") for p in parsed.passages for t in p.tags)


def test_story_title_and_data(story, tmp_path):
    harlowe = read_twee(export_twee(story, tmp_path / "a.twee", pictures=False))
    sugar = read_twee(export_twee(story, tmp_path / "b.twee", story_format="sugarcube",
                                  pictures=False))
    assert harlowe.title == "The Lantern Coast"
    assert harlowe.data["format"] == "Harlowe" and harlowe.data["format-version"].startswith("3.")
    assert sugar.data["format"] == "SugarCube" and sugar.data["format-version"].startswith("2.")
    for parsed in (harlowe, sugar):
        assert IFID.match(parsed.data["ifid"])
        assert parsed.data["start"] == parsed.start
        assert "opening" in parsed.passage(parsed.start).tags
    assert harlowe.data["ifid"] != sugar.data["ifid"]            # fresh each time
    with pytest.raises(DreamreelError, match="Unknown Twine story format"):
        export_twee(story, tmp_path / "c.twee", story_format="chapbook")


def test_passages_are_laid_out_on_a_grid_by_depth(story, tmp_path):
    parsed = read_twee(export_twee(story, tmp_path / "tale.twee", pictures=False))
    plan = {p.name: p for p in plan_passages(story)}
    spots = set()
    for passage in parsed.passages[2:]:
        x, y = (int(v) for v in passage.metadata["position"].split(","))
        node, _ = plan[passage.name].key
        depth = len(story.graph.path(node)) - 1
        assert x == 100 + 200 * depth
        spots.add((x, y))
    assert len(spots) == len(parsed.passages) - 2                # no two on one spot


def test_pictures_go_beside_the_twee_and_are_named_in_the_passages(story, tmp_path):
    out = export_twee(story, tmp_path / "out" / "my tale.twee")
    folder = tmp_path / "out" / "my tale-pictures"
    parsed = read_twee(out)
    sources = [m.group(1) for p in parsed.passages
               for m in re.finditer(r'<img src="([^"]+)"', p.text)]
    told, _, _ = _expected(story)
    assert len(sources) >= told
    for source in sources:
        assert source.startswith("my%20tale-pictures/")
        with Image.open(folder / source.split("/", 1)[1]) as image:
            assert image.format == "JPEG" and image.size == (192, 108)
    assert len(list(folder.iterdir())) == len(set(sources))
    export_twee(story, out)                                      # again: replaced, not piled up
    assert len(list(folder.iterdir())) == len(set(sources))
    assert sorted(p.name for p in out.parent.iterdir()) == ["my tale-pictures", "my tale.twee"]


def test_titles_with_metacharacters_round_trip_and_names_stay_unique(story, tmp_path):
    root = story.scene(story.graph.root)
    root.current.title = TRICKY
    second = next(s for s in story.graph.scenes() if s.current is not None and s.parent is not None)
    second.current.title = TRICKY
    parsed = read_twee(export_twee(story, tmp_path / "tale.twee", pictures=False))
    names = [p.name for p in parsed.passages]
    assert TRICKY in names and f"{TRICKY} (2)" in names
    assert parsed.start == TRICKY
    opening = parsed.passage(TRICKY)
    assert f"{TRICKY} (2)" in [link.target for link in opening.links]
    raw = (tmp_path / "tale.twee").read_text()
    assert ":: The \\[Old\\] \\{Keeper\\} \\\\ Gate [opening" in raw


def test_names_and_labels_cannot_break_links():
    taken: set[str] = set()
    hostile = ["Left->Right", "a|b", "x]]y", "[[z", "ends]", "StoryInit", "", "  lots   of\n"
               "space  "]
    names = [unique_name(title, taken, "Scene 9") for title in hostile]
    assert len(set(names)) == len(names) and "StoryInit" not in names and "Scene 9" in names
    labels = [link_label(text) for text in ["Go ->there", "a|b", "[[x]]", "<b>$gold</b>"]]
    passages = [PlannedPassage((n, 0), name, ["scene"], links=[(label, names[0])
                                                                 for label in labels])
                for n, name in enumerate(names)]
    text = "".join(render_passage(p, "pictures") for p in passages)
    parsed = parse_twee(text)
    assert [p.name for p in parsed.passages] == names
    for passage in parsed.passages:
        assert [link.target for link in passage.links] == [names[0]] * len(labels)
        assert [plain_text(link.text) for link in passage.links] == \
            ["Go \u2192there", "a/b", "((x))", "<b>$gold</b>"]


def test_narration_is_not_read_as_markup_and_comes_back():
    narration = ("She writes (note: 5 coins) & <b>bold</b> $gold _temp [[not a link]] "
                 "&amp; done.\n:: not a header")
    passage = PlannedPassage((0, 0), "Here", ["scene"], narration=narration)
    parsed = parse_twee(render_passage(passage, "p"))
    assert len(parsed.passages) == 1 and parsed.passages[0].links == []
    assert html.unescape(parsed.passages[0].text) == narration
    assert "<" not in prose("<<set $x to 1>>") and "(set:" not in prose("(set: $x to 1)")


def test_a_cancelled_export_leaves_nothing(story, tmp_path):
    calls = []

    def progress(fraction, what):
        calls.append(fraction)
        if len(calls) == 4:
            raise JobCancelled()

    out = tmp_path / "out" / "tale.twee"
    with pytest.raises(JobCancelled):
        export_twee(story, out, on_progress=progress)
    assert list(out.parent.iterdir()) == []
    done = []
    export_twee(story, out,
                on_progress=lambda fraction, what: done.append(fraction))
    assert done[-1] == 1.0 and done == sorted(done)


def test_export_reads_only(story, tmp_path, config):
    folder = config.saves_dir / "slots" / "tale"
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    export_twee(story, tmp_path / "tale.twee")
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_without_a_painter_there_is_no_pictures_folder(config, tmp_path):
    config = play_a_story(config)
    session = open_story(config.with_changes(game={"painter": "none"}), "tale")
    try:
        out = export_twee(session, tmp_path / "out" / "tale.twee")
    finally:
        session.close()
    assert [p.name for p in out.parent.iterdir()] == ["tale.twee"]
    assert "<img" not in out.read_text()
