"""Sampler settings, presets, DRY and the narration's word range, without a real model."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import NarratorError
from engine.narrators import split_spec
from engine.narrators.sampling import PRESETS, preset_for, sampling_from, split_sampling
from engine.narrators.shaping import NarrationShape

torch = pytest.importorskip("torch")

from engine.narrators.hf_sampler import DryPenalty, TokenSampler, breaker_mask  # noqa: E402


def test_presets_follow_the_model_size_and_options_override_them():
    assert preset_for(135_000_000) == "small"
    assert preset_for(3_000_000_000) == "medium"
    assert preset_for(70_000_000_000) == "large"
    assert preset_for(None) == "medium"
    small = sampling_from({}, 135_000_000)
    assert small == PRESETS["small"]
    tuned = sampling_from({"min_p": "0.2", "preset": "large", "dry_breakers": "\\n|:"})
    assert tuned.min_p == 0.2 and tuned.repetition_penalty == PRESETS["large"].repetition_penalty
    assert tuned.dry_breakers == ("\n", ":")


@pytest.mark.parametrize("options, message", [
    ({"min_p": "lots"}, "not a valid float"),
    ({"top_p": 1.5}, "probabilities"),
    ({"temperature": -1}, "must not be negative"),
    ({"preset": "huge"}, "Unknown sampler preset"),
    ({"mirostat": 2}, "Unknown sampler option"),
])
def test_bad_sampler_options_are_refused_with_the_name(options, message):
    with pytest.raises(NarratorError, match=message):
        sampling_from(options)


def test_specs_carry_options_after_a_question_mark():
    assert split_spec("openai:m@http://127.0.0.1:8080/v1?min_p=0.1&max_tokens=300") == (
        "openai:m@http://127.0.0.1:8080/v1", {"min_p": "0.1", "max_tokens": "300"})
    assert split_spec("transformers:/models/what?.gguf") == ("transformers:/models/what?.gguf", {})
    sampler, rest = split_sampling({"min_p": "0.1", "max_tokens": "300", "preset": "small"})
    assert sampler == {"min_p": "0.1", "preset": "small"} and rest == {"max_tokens": "300"}


def _no_breakers(vocab: int) -> np.ndarray:
    return np.zeros(vocab, dtype=bool)


def test_dry_penalises_the_token_that_continues_a_repeat():
    dry = DryPenalty(multiplier=1.0, base=2.0, allowed_length=2, window=100,
                     breakers=_no_breakers(20))
    dry.extend([1, 2, 3, 4, 5, 9, 1, 2, 3])       # "1 2 3" again: 4 would continue it
    amounts = dry.penalties(20)
    assert amounts[4] == pytest.approx(1.0 * 2.0 ** (3 - 2))
    assert amounts[5] == 0 and amounts[9] == 0
    dry.extend([4])                               # a longer repeat costs more
    assert dry.penalties(20)[5] == pytest.approx(2.0 ** (4 - 2))


def test_dry_breakers_end_a_match_and_the_window_forgets():
    breakers = _no_breakers(20)
    breakers[7] = True                            # e.g. a token holding a quote
    dry = DryPenalty(1.0, 2.0, 2, 100, breakers)
    dry.extend([1, 7, 3, 4, 5, 1, 7, 3, 4])       # the repeat crosses the breaker: only "3 4"
    assert dry.penalties(20)[5] == pytest.approx(2.0 ** 0)
    short = DryPenalty(1.0, 2.0, 2, 4, _no_breakers(20))
    short.extend([1, 2, 3, 8, 8, 9, 1, 2, 3])     # the first "1 2 3 4" is out of the window
    assert short.penalties(20) is None


def test_breaker_mask_reads_token_text():
    mask = breaker_mask([b"ab", b'"', b'", ', b"x:", b"\n\n", b""], ("\n", ":", '"'), 6)
    assert mask.tolist() == [False, True, True, True, True, False]


def _loop_logits(history: list[int], cycle: list[int], vocab: int) -> torch.Tensor:
    """A 'model' that always wants to go on with its favourite loop."""
    logits = torch.zeros(vocab)
    last = history[-1]
    following = cycle[(cycle.index(last) + 1) % len(cycle)] if last in cycle else cycle[0]
    logits[following] = 8.0
    return logits


@pytest.mark.parametrize("dry_multiplier", [0.0, 1.0])
def test_a_looping_model_is_broken_out_of_its_loop_by_dry(dry_multiplier):
    vocab, cycle = 60, list(range(10))
    sampling = sampling_from({"preset": "small", "dry_multiplier": dry_multiplier,
                              "repetition_penalty": 1.0, "temperature": 0.7, "min_p": 0.0,
                              "top_k": 0, "top_p": 1.0})
    texts = [f"w{token} ".encode() for token in range(vocab)]
    sampler = TokenSampler(sampling, vocab, texts, prompt_ids=[30, 31])
    generator = torch.Generator().manual_seed(0)
    out = []
    for _ in range(120):
        token = sampler.sample(_loop_logits(sampler.history, cycle, vocab), None, generator, 0.7)
        sampler.push([token])
        out.append(token)
    runs = [len(set(out[i:i + 50])) for i in range(0, 70)]
    looped = sum(1 for a, b in zip(out, out[10:]) if a == b) / (len(out) - 10)
    if dry_multiplier:
        assert looped < 0.5      # DRY: no 50-token loop gets through
    else:
        assert looped > 0.8      # without it the model loops (the test can fail)
    assert min(runs) >= 1


def test_the_grammar_mask_always_wins_over_penalties():
    vocab = 30
    sampler = TokenSampler(sampling_from({"repetition_penalty": 3.0}), vocab,
                           [b"t"] * vocab, prompt_ids=[5] * 50)
    allowed = np.zeros(vocab, dtype=bool)
    allowed[5] = True                            # the grammar forces a repeated token
    logits = torch.zeros(vocab)
    assert sampler.sample(logits, allowed, torch.Generator().manual_seed(1), 0.8) == 5


class _Masks:
    """The two masks and the closer NarrationShape uses from a SceneGrammar."""

    def __init__(self, vocab: int):
        self.closes_string = np.zeros(vocab, dtype=bool)
        self.closes_string[0] = True             # token 0: `"`
        self.ends_sentence = np.zeros(vocab, dtype=bool)
        self.ends_sentence[1] = True             # token 1: `.`

    def closing_token(self, allowed, in_string):
        return 0 if allowed[0] else None


def test_the_narration_keeps_to_its_word_range_and_ends_at_a_sentence():
    shape, masks, allowed = NarrationShape(10, 20), _Masks(5), np.ones(5, dtype=bool)
    short = "You walk along the quay."            # 5 words: may not end yet
    narrowed, forced = shape.steer(short, allowed, masks)
    assert forced is None and not narrowed[0] and narrowed[2]
    middle = " ".join(["word"] * 12)
    assert shape.steer(middle, allowed, masks)[1] is None         # free to go on
    nearly = " ".join(["word"] * 17) + " end."   # past 85% and a sentence ended: close
    assert shape.steer(nearly, allowed, masks)[1] == 0
    over = " ".join(["word"] * 21)               # at the budget mid-sentence: end it
    narrowed, forced = shape.steer(over, allowed, masks)
    assert forced is None and narrowed.tolist() == [False, True, False, False, False]
    runaway = " ".join(["word"] * 60)            # a model that never ends a sentence
    assert shape.steer(runaway, allowed, masks)[1] == 0
    assert shape.token_budget() > 20


def test_copy_guard_forbids_the_word_that_completes_a_copied_run_whatever_the_punctuation():
    from engine.narrators.copyguard import CopyGuard, WordStarts
    texts = [b" the", b" sea", b" ghosts", b" have", b" no", b" love", b" fear", b".", b" The",
             b"gh", b" gh", b"ost", b", the", b" lo"]
    starts = WordStarts(texts, len(texts))
    guard = CopyGuard(6, "Last scene: The sea ghosts have no love. They wait.", starts)
    banned = guard.banned("You hear it; the sea ghosts, have no")
    assert banned is not None
    assert set(banned.tolist()) == {5, 13}          # " love" and " lo" start the copied word
    assert guard.banned("You hear it; the sea ghosts have no fear") is None
    assert guard.banned("The sea") is None          # too short to be a copy yet
    own = CopyGuard(6, "", starts)                  # the narration's own runs count too
    looped = "The sea ghosts have no love for you. Then the sea ghosts have no"
    assert set(own.banned(looped).tolist()) == {5, 13}
    assert CopyGuard(0, "The sea ghosts have no love", starts).banned(
        "the sea ghosts have no") is None


def test_word_starts_index_tokens_that_begin_a_word():
    from engine.narrators.copyguard import WordStarts
    starts = WordStarts([b" Love", b"love", b", lov", b"\xff", b""], 5)
    assert sorted(starts.ids_for("love").tolist()) == [0, 2]   # "love" continues a word


def test_a_run_on_word_of_symbols_counts_as_many_words():
    shape, masks, allowed = NarrationShape(10, 20), _Masks(5), np.ones(5, dtype=bool)
    looping = "You are a thing we call the " + "1:" * 200
    assert shape.steer(looping, allowed, masks)[1] == 0     # closed, not left to loop on
