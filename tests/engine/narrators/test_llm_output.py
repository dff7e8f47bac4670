"""Reading model output: streaming the narration out of JSON, mending and validating drafts."""

from __future__ import annotations

import json
import random

import pytest

from engine.narrators.llm_output import DraftError, NarrationStream, parse_scene
from engine.story.schema import SceneDraft

SCENE = {
    "title": "The Bell",
    "narration": ('Line one.\nHe says "narration" twice: \\ é 🔔\ttab {"not": "json"} while the '
                  'tide runs out over the flats and the bell tolls once more beneath the water.'),
    "choices": [{"label": "Go down", "intent": "travel"},
                {"label": "Stay here", "intent": "rest"}],
    "image_prompt": "a bell", "mood": "eerie", "effects": {"set_flags": {"narration": True}},
}


@pytest.mark.parametrize("ascii_only", [True, False])
def test_narration_stream_extracts_the_field_from_any_chunking(ascii_only):
    raw = json.dumps(SCENE, ensure_ascii=ascii_only)   # \u escapes and surrogate pairs too
    rng = random.Random(3)
    for _ in range(20):
        stream, got, at = NarrationStream(), [], 0
        while at < len(raw):
            size = rng.randint(1, 9)
            got.append(stream.feed(raw[at:at + size]))
            at += size
        assert "".join(got) == SCENE["narration"]
        assert stream.text == SCENE["narration"]


def test_narration_stream_ignores_nested_keys_and_chatter():
    stream = NarrationStream()
    text = 'Sure! {"effects": {"narration": "no"}, "title": "narration", "narration": "yes"}'
    assert stream.feed(text) == "yes"
    assert not stream.in_string


def test_parse_scene_accepts_fenced_json_with_chatter():
    text = "Here is the scene:\n```json\n" + json.dumps(SCENE) + "\n```\nEnjoy!"
    draft = parse_scene(text)
    assert isinstance(draft, SceneDraft)
    assert draft.title == "The Bell" and len(draft.choices) == 2 and draft.source == ""


def test_parse_scene_mends_small_slips():
    raw = dict(SCENE, mood="spooky", title="  ", choices=[
        {"label": "Go out", "intent": "dance"}, {"label": "go OUT", "intent": "talk"},
        "Shout for help", {"label": "  "}, {"label": "Run away", "intent": "flee"},
        {"label": "Hide now"}, {"label": "Six more"}])
    draft = parse_scene(json.dumps(raw))
    assert draft.mood == "calm"
    assert draft.title == "Line one. He says narration"   # its first five words, no quotes
    assert [(c.label, c.intent) for c in draft.choices] == [
        ("Go out", "explore"), ("Shout for help", "explore"), ("Run away", "flee"),
        ("Hide now", "explore")]


def test_parse_scene_drops_stub_labels_and_cleans_markup_from_titles():
    raw = dict(SCENE, title="The Lantern Coast (after: Begin) (after: I)},",
               choices=[{"label": "W", "intent": "explore"}, {"label": "Fl", "intent": "flee"},
                        {"label": "Wade into the water", "intent": "explore"},
                        {"label": "Ask the ferrywoman", "intent": "talk"}])
    draft = parse_scene(json.dumps(raw))
    assert draft.title == "The Lantern Coast after Begin after I"
    assert [c.label for c in draft.choices] == ["Wade into the water", "Ask the ferrywoman"]
    only_stubs = dict(SCENE, choices=[{"label": "N"}, {"label": "A"}])
    with pytest.raises(DraftError, match="choices"):
        parse_scene(json.dumps(only_stubs))


def test_parse_scene_keeps_only_the_effects_that_fit():
    raw = dict(SCENE, effects={"adjust": {"rebel: ": 2038141759605623, "clues": 1},
                               "set_flags": {"": ""}, "characters_enter": ["Maren"],
                               "nonsense": 3})
    draft = parse_scene(json.dumps(raw))
    assert draft.effects.characters_enter == ["Maren"]
    assert draft.effects.adjust == {} and draft.effects.set_flags == {}


@pytest.mark.parametrize("text, reason", [
    ("", "no JSON object"),
    ("I cannot do that.", "no JSON object"),
    ('{"title": "A", "narration": "cut off her', "cut off"),
    ('{"title": "A", "narration": "", "choices": []}', "does not fit the schema"),
    (json.dumps(dict(SCENE, choices=[{"label": "Only one"}])), "does not fit the schema"),
    ('{"title": "A" "narration": "b"} trailing', "invalid JSON"),
])
def test_parse_scene_refuses_unusable_output_with_a_reason(text, reason):
    with pytest.raises(DraftError, match=reason):
        parse_scene(text)


def test_parse_scene_without_repair_is_strict():
    with pytest.raises(DraftError):
        parse_scene(json.dumps(dict(SCENE, mood="spooky")), repair=False)


def test_narration_stream_follows_choice_labels_for_the_decoder():
    raw = json.dumps({"narration": "You go.", "title": "Out", "choices": [
        {"intent": "talk", "label": "Ask Ivy"}, {"intent": "talk", "label": 'Ask "ivy"'}],
        "mood": "calm", "effects": {"set_flags": {"label": True}}})
    stream, inside = NarrationStream(), ""
    for ch in raw:
        stream.feed(ch)
        if stream.in_label:
            inside += ch
    assert stream.labels == ["Ask Ivy", 'Ask "ivy"']
    assert stream.text == "You go." and not stream.in_label
    assert "Ask Ivy" in inside and "intent" not in inside and "calm" not in inside
