"""The transformers narrator calls the model the way transformers 5 wants: no FutureWarning or
DeprecationWarning from our calls, even when a model's forward is wrapped."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("llguidance")

from engine.narrators import make_narrator  # noqa: E402
from engine.worlds.loading import load_world  # noqa: E402

from tests.support.llm_fixtures import make_request, make_world, tiny_chat_lm  # noqa: E402

__all__ = ["tiny_chat_lm"]   # a fixture, used by name


def test_a_wrapped_forward_still_gets_the_cache_under_its_new_name(tiny_chat_lm, tmp_path):
    narrator = make_narrator(f"transformers:{tiny_chat_lm}", max_new_tokens=8)
    narrator.load()
    model, original = narrator._lm, narrator._lm.forward
    seen: list[set] = []

    def forward(*args, **kwargs):          # a hook that hides forward's signature
        seen.append(set(kwargs))
        return original(*args, **kwargs)

    model.forward = forward
    narrator._setup(model, narrator._tokenizer, "cpu")
    world = load_world(str(make_world(tmp_path / "coast")))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        warnings.simplefilter("error", DeprecationWarning)
        narrator.narrate(make_request(world, seed=1))
    assert seen and all("cache" in names and "past_key_values" not in names for names in seen)
