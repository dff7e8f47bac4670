"""Narrator memory: the extractive rolling summary and keyword-triggered lore."""

from __future__ import annotations

import pytest

from engine.story.memory import first_sentence, rolling_summary, triggered_lore
from engine.narrators import RecentScene
from engine.worlds.loading import load_world

from tests.support.llm_fixtures import make_world


@pytest.fixture
def world(tmp_path):
    return load_world(str(make_world(tmp_path / "coast")))


def scene(i: int, narration: str | None = None) -> RecentScene:
    return RecentScene(title=f"Scene {i}", action=f"action {i}",
                       narration=narration or f"Event number {i} happens at the quay. "
                                              f"Then much more detail follows that is left out.")


def test_first_sentence_takes_the_first_sentence_and_caps_it():
    assert first_sentence("  You wake.\n\nThe sea is loud. ") == "You wake."
    assert first_sentence('"Go!" she says. You go.') == '"Go!" she says.'
    long = "word " * 100
    cut = first_sentence(long, limit=40)
    assert len(cut) <= 40 and cut.endswith("…")
    assert first_sentence("") == ""


def test_rolling_summary_lists_actions_and_first_sentences_without_markup():
    text = rolling_summary([scene(1), scene(2)])
    assert text.splitlines() == [
        '- After "action 1": Event number 1 happens at the quay.',
        '- After "action 2": Event number 2 happens at the quay.',
    ]
    assert "Scene 1" not in text and "(" not in text   # titles and brackets get copied
    assert "more detail" not in text
    assert rolling_summary([]) == ""


def test_rolling_summary_is_deterministic_and_capped_keeping_recent_detail():
    older = [scene(i) for i in range(48)]
    first, second = rolling_summary(older), rolling_summary(list(older))
    assert first == second
    assert len(first) <= 1000
    assert 'After "action 47": Event number 47' in first   # the newest keep their sentence
    assert 'After "action 45": Event number 45' in first
    assert first.splitlines()[0].startswith("- Earlier:") or "Scene 0" in first
    assert len(rolling_summary(older, max_chars=300)) <= 300


def test_lore_is_triggered_by_keywords_in_priority_order(world):
    found = triggered_lore(world, ["You hear a BELL and gulls over the water."], 1000)
    assert [entry.id for entry in found] == ["drowned_bell", "gulls"]      # priority 10, then 1
    assert triggered_lore(world, ["the old drowned   church"], 1000)[0].id == "drowned_bell"
    assert triggered_lore(world, ["a gull"], 1000)[0].id == "gulls"
    assert triggered_lore(world, ["bellows and seagulls"], 1000) == []    # whole words only
    assert triggered_lore(world, ["Never triggered by keywords."], 1000) == []


def test_lore_respects_the_budget(world):
    texts = ["bell and gull"]
    bell = next(e for e in world.lore if e.id == "drowned_bell")
    only_one = triggered_lore(world, texts, len(bell.text))
    assert [e.id for e in only_one] == ["drowned_bell"]
    assert triggered_lore(world, texts, 0) == []
