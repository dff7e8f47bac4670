"""dreamreel eval's engine: the text measures on hand-made text, and scripted play through the
Session with the storylets narrator (both shipped worlds), a small world with an ending, prompt
folders compared side by side, and one short run of a tiny random-weight model."""

from __future__ import annotations

import importlib.util
import json
import textwrap

import pytest

from engine.evaluation import (EvalError, EvalSettings, as_json, evaluate, longest_shared_run,
                               printed, read_script, repeated_ngram_share, shape_problems,
                               totals, transcripts, words)
from engine.evaluation.metrics import percentile

from tests.support.llm_fixtures import tiny_lm

__all__ = ["tiny_lm"]   # a fixture, used by name
HAVE_ML = all(importlib.util.find_spec(name) for name in ("torch", "transformers", "llguidance"))

PROSE = ("The fog opens like a curtain and the harbour is there: black stone, roofs huddled "
         "under a headland, and high above them the white finger of the lighthouse, unlit in "
         "the grey dawn. Ivy ships her oars and lets the boat drift the last yards. She has not "
         "said a word since the mainland, and she does not look at you now.")
GOOD_LABELS = ["Ask Ivy about the bell", "Climb the cliff path"]


# -- metrics ----------------------------------------------------------------------------------
def test_words_are_lowercase_tokens_with_apostrophes():
    assert words("Don’t stop, KEEPER! It's 5 o'clock.") == ["don't", "stop", "keeper", "it's",
                                                            "5", "o'clock"]


def test_a_fifty_word_loop_has_a_high_repeated_4gram_share():
    loop = words("alone, " * 50)
    assert len(loop) == 50
    assert repeated_ngram_share(loop) > 0.9
    sentence = "and you are going to be the new keeper of the light "
    assert repeated_ngram_share(words(sentence * 5)) > 0.7
    assert repeated_ngram_share(words(PROSE)) == 0.0
    assert repeated_ngram_share(words("too short")) == 0.0


def test_a_copied_twelve_word_run_is_found_in_the_right_source():
    copied = "somewhere beneath the waves a bell tolls once and the gulls fall"
    assert len(words(copied)) == 12
    text = words(f"You wake at dawn. {copied.capitalize()}. Then you walk on.")
    prompt = words(f"System: write a scene. Example: {copied}! The player acts.")
    run = longest_shared_run(text, [words(PROSE), prompt])
    assert run.length == 12
    assert run.text == copied
    assert run.source == 1
    assert longest_shared_run(text, [words(PROSE)]).length < 3
    assert longest_shared_run([], [prompt]).length == 0


def test_a_copied_run_never_spans_two_sources():
    text = words("one two three four five six")
    run = longest_shared_run(text, [words("x one two three"), words("four five six y")])
    assert run.length == 3


def test_copy_search_on_a_prompt_sized_source_probes_few_run_lengths(monkeypatch):
    """Each probe of a run length is one pass over text and sources; a binary search needs
    about log2(text length) of them where a scan of lengths would need one per length."""
    import builtins
    import math
    import random
    from engine.evaluation import metrics
    probed = []

    def counting_pow(base, length, modulus):   # one call per run length tried
        probed.append(length)
        return builtins.pow(base, length, modulus)

    monkeypatch.setattr(metrics, "pow", counting_pow, raising=False)
    rng = random.Random(3)
    prompt = [f"w{rng.randrange(400)}" for _ in range(2500)]
    text = [f"w{rng.randrange(400)}" for _ in range(150)] + prompt[1000:1030]
    run = longest_shared_run(text, [prompt])
    assert run.length >= 30 and " ".join(prompt[1000:1030]) in run.text and run.source == 0
    assert 30 in probed and len(probed) <= math.ceil(math.log2(len(text) + 1))


def test_shape_checks():
    assert shape_problems("The Lamp Room", 120, GOOD_LABELS, ending=False) == []
    assert shape_problems("The Lamp Room", 120, [], ending=True) == []
    stubs = shape_problems("The Lamp Room", 120, ["W", "I"], ending=False)
    assert stubs == ["stub choice 'W'", "stub choice 'I'"]
    assert shape_problems("The Lamp Room", 120, ["Go on", "Turn back"], False) == \
        ["stub choice 'Go on'"]            # two words but under six characters
    leaked = shape_problems("The Lantern Coast (after: Begin)},", 120, GOOD_LABELS, False)
    assert leaked and "markup" in leaked[0]
    assert shape_problems("A title that goes on for far too many words here", 120, GOOD_LABELS,
                          False) == ["title of 11 words"]
    assert shape_problems("Lamp", 526, GOOD_LABELS, False) == ["526 words (want 60-200)"]
    assert shape_problems("Lamp", 30, GOOD_LABELS, False, word_range=(20, 40)) == []
    assert shape_problems("Lamp", 120, GOOD_LABELS[:1], False) == ["1 choices"]


def test_percentile():
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([1.0, 2.0], 0.5) == 1.5


def test_totals_leave_an_authored_opening_out_of_the_narrators_figures():
    from engine.evaluation import RunResult, SceneRecord
    result = RunResult(label="default", prompts="", world_id="w", world_title="W",
                       narrator="transformers:m")
    result.scenes = [
        SceneRecord(turn=0, action="", taken="(opening)", kind="opening", authored=True,
                    words=150, well_formed=True, first_word_s=0.01, scene_s=0.01),
        SceneRecord(turn=1, action="1", taken="Go", kind="choice", words=100, well_formed=True,
                    first_word_s=1.0, scene_s=10.0, copied_from_prompt=3, tokens_per_s=12.0),
        SceneRecord(turn=2, action="x", taken="x", kind="text", words=300, well_formed=False,
                    first_word_s=3.0, scene_s=30.0, copied_from_prompt=14, attempts=2,
                    repeated_4gram_share=0.4, tokens_per_s=10.0),
    ]
    figures = totals(result)
    assert (figures["scenes"], figures["authored"], figures["measured"]) == (3, 1, 2)
    assert figures["well_formed_share"] == 0.5 and figures["mean_words"] == 200
    assert figures["first_word_p50_s"] == 2.0 and figures["mean_scene_s"] == 20.0
    assert figures["max_copied_from_prompt"] == 14 and figures["max_copied_from_prompt_turn"] == 2
    assert figures["max_repeated_4gram_share"] == 0.4 and figures["retried"] == 1
    assert figures["mean_tokens_per_s"] == 11.0 and not figures["tokens_per_s_estimated"]
    settings = EvalSettings(narrator="transformers:m", world="w", turns=2)
    table = printed(settings, [result])
    assert "40%!" in table and "14!" in table          # beyond the limits: marked
    assert "told on the narrator's attempt 2" in table


# -- scripted play ----------------------------------------------------------------------------
SCRIPT = ("1", "9", "I ask who keeps the light", "2", "I search for tracks")


@pytest.mark.parametrize("world", ["lantern_coast", "hollow_orbit"])
def test_storylets_play_both_shipped_worlds(config, world):
    settings = EvalSettings(narrator="storylets", world=world, turns=5, script=SCRIPT, seed=4)
    [result] = evaluate(config, settings)
    scenes = result.scenes
    assert [s.turn for s in scenes] == [0, 1, 2, 3, 4, 5]
    assert [s.kind for s in scenes] == ["opening", "choice", "choice", "text", "choice", "text"]
    assert scenes[3].taken == "I ask who keeps the light"
    assert scenes[2].taken == scenes[1].choices[-1]     # 9: the last choice there was
    assert scenes[1].taken == scenes[0].choices[0]
    for s in scenes:
        assert not s.failed and s.title and s.words == len(words(s.narration))
        assert s.authored and s.source                   # the world's own text
        assert s.copied_from_prompt is None               # no prompt: nothing to copy from
        assert s.tokens_per_s is None
        assert 0 <= s.first_word_s <= s.scene_s           # measured: the first word first
        assert s.well_formed == (not s.problems)
    figures = totals(result)
    assert figures["scenes"] == 6 and figures["authored"] == 6 and figures["failed"] == 0
    share = sum(s.well_formed for s in scenes) / 6
    assert figures["well_formed_share"] == pytest.approx(share, abs=1e-4)
    assert figures["mean_words"] == pytest.approx(sum(s.words for s in scenes) / 6, abs=0.05)
    assert figures["max_copied_from_prompt"] is None
    again = evaluate(config, settings)[0]
    assert [s.narration for s in again.scenes] == [s.narration for s in scenes]  # seeded


def test_report_table_transcript_and_json(config):
    settings = EvalSettings(narrator="storylets", world="lantern_coast", turns=3, seed=2)
    results = evaluate(config, settings)
    table = printed(settings, results)
    assert "The Lantern Coast" in table and "well-formed" in table and "authored" in table
    assert all(s.title in table or s.title[:19] in table for s in results[0].scenes)
    text = transcripts(settings, results)
    for s in results[0].scenes:
        assert f"## {s.turn}. {s.title}" in text
        assert " ".join(s.narration.split()[:6]) in " ".join(text.split())
        assert all(label in text for label in s.choices)
    data = json.loads(as_json(settings, results))
    assert data["narrator"] == "storylets" and data["world"] == "lantern_coast"
    assert data["seed"] == 2 and data["turns"] == 3
    run = data["runs"][0]
    assert len(run["scenes"]) == 4 and run["totals"]["scenes"] == 4
    assert run["scenes"][1]["taken"] and "first_word_s" in run["scenes"][1]
    assert run["transcript"].startswith("# The Lantern Coast")


ENDING_WORLD = {
    "world.toml": 'title = "Short Walk"\nstart = "gate"\n',
    "storylets/main.toml": '''
        [[storylet]]
        id = "gate"
        title = "The Gate"
        text = "{text}"
        [[storylet.choices]]
        label = "Walk down to the sea"
        goto = "sea"
        [[storylet.choices]]
        label = "Climb the hill path"
        goto = "hill"

        [[storylet]]
        id = "sea"
        title = "The Sea"
        text = "{text}"
        ending = true

        [[storylet]]
        id = "hill"
        title = "The Hill"
        text = "{text}"
        [[storylet.choices]]
        label = "Look out over the water"
        [[storylet.choices]]
        label = "Sit down on the grass"
        ''',
}


def make_ending_world(root):
    text = " ".join(words(PROSE))
    for name, body in ENDING_WORLD.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).replace("{text}", text), encoding="utf-8")
    return root


def test_after_an_ending_the_eval_goes_back_and_takes_an_untold_choice(config, tmp_path):
    world = make_ending_world(tmp_path / "short_walk")
    settings = EvalSettings(narrator="storylets", world=str(world), turns=2, script=("1",))
    [result] = evaluate(config, settings)
    first, second = result.scenes[1], result.scenes[2]
    assert first.title == "The Sea" and first.ending and first.well_formed   # no choices needed
    assert second.taken == "Climb the hill path" and second.title == "The Hill"
    assert any("the story ended; went back" in note for note in result.notes)
    assert first.copied_from_scene == len(words(PROSE))    # the same text told again is found


def test_read_script(tmp_path):
    script = tmp_path / "script.txt"
    script.write_text("# warm up\n1\n\n  I   ask about the bell \n# done\n2\n", encoding="utf-8")
    assert read_script(script) == ("1", "I ask about the bell", "2")
    script.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(EvalError, match="no actions"):
        read_script(script)
    with pytest.raises(EvalError, match="cannot be read"):
        read_script(tmp_path / "missing.txt")


def prompt_folder(path, extra: str = ""):
    from engine.narrators.prompting import PROMPTS
    path.mkdir()
    (path / "system.j2").write_text((PROMPTS / "system.j2").read_text() + extra, encoding="utf-8")
    return path


def test_prompt_folders_are_compared_side_by_side(config, tmp_path):
    plain = prompt_folder(tmp_path / "plain")
    stray = prompt_folder(tmp_path / "wordy")
    (stray / "sceen.j2").write_text("typo", encoding="utf-8")
    settings = EvalSettings(narrator="storylets", world="hollow_orbit", turns=2,
                            prompts=(str(plain), str(stray), "default"))
    results = evaluate(config, settings)
    assert [r.label for r in results] == ["plain", "wordy", "default"]
    assert [s.narration for s in results[0].scenes] == [s.narration for s in results[1].scenes]
    assert any("sceen.j2 is not a prompt template name" in note for note in results[1].notes)
    table = printed(settings, results)
    header = next(line for line in table.splitlines() if line.startswith("totals"))
    assert header.split() == ["totals", "plain", "wordy", "default"]
    with pytest.raises(EvalError, match="no such folder"):
        evaluate(config, EvalSettings(narrator="storylets", world="hollow_orbit",
                                      prompts=(str(tmp_path / "nope"),)))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvalError, match="holds none of"):
        evaluate(config, EvalSettings(narrator="storylets", world="hollow_orbit",
                                      prompts=(str(tmp_path / "empty"),)))


# -- one run of a tiny language model ---------------------------------------------------------
@pytest.mark.skipif(not HAVE_ML, reason="needs the ML extras")
def test_a_tiny_model_is_measured_from_its_own_prompt_and_timings(config, tmp_path, tiny_lm):
    model = tiny_lm
    short = prompt_folder(tmp_path / "short")
    long = prompt_folder(tmp_path / "long", "\nRemember the lighthouse. " * 10)
    settings = EvalSettings(narrator=f"transformers:{model}?max_new_tokens=48",
                            world="lantern_coast", turns=1, script=("I ask about the bell",),
                            prompts=(str(short), str(long)))
    short_run, long_run = evaluate(config, settings)
    for result in (short_run, long_run):
        assert result.narrator.startswith("transformers:")
        for s in result.scenes:
            if s.failed or s.authored:
                continue
            assert isinstance(s.copied_from_prompt, int) and s.prompt_tokens > 0
            assert s.tokens and not s.tokens_estimated     # the narrator's own timings
    told = [(a, b) for a, b in zip(short_run.scenes, long_run.scenes)
            if a.prompt_tokens and b.prompt_tokens]
    assert told and all(b.prompt_tokens > a.prompt_tokens for a, b in told)
    assert "transformers:" in printed(settings, [short_run, long_run])
    figures = totals(short_run)
    assert figures["measured"] == figures["scenes"] - figures["authored"] > 0
