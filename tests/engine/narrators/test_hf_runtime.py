"""engine.narrators.hf_runtime's loading: local files only, and errors that say what to do."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch  # noqa: E402
import transformers  # noqa: E402

from engine.errors import NarratorError  # noqa: E402
from engine.narrators.hf_runtime import load_model  # noqa: E402

from tests.support.llm_fixtures import tiny_lm  # noqa: E402

__all__ = ["tiny_lm"]   # a fixture, used by name


@pytest.fixture
def from_pretrained_calls(monkeypatch) -> list[dict]:
    """Every from_pretrained call's keyword arguments (the real loaders still run)."""
    calls: list[dict] = []
    for auto in (transformers.AutoTokenizer, transformers.AutoModelForCausalLM):
        real = auto.from_pretrained.__func__

        def spy(cls, *args, _real=real, **kwargs):
            calls.append(kwargs)
            return _real(cls, *args, **kwargs)

        monkeypatch.setattr(auto, "from_pretrained", classmethod(spy))
    return calls


def test_a_folder_loads_from_local_files_only(tiny_lm, from_pretrained_calls):
    model, tokenizer = load_model(str(tiny_lm), "cpu", torch.float32)
    assert model.device.type == "cpu" and tokenizer is not None
    assert len(from_pretrained_calls) == 2
    assert all(call.get("local_files_only") is True for call in from_pretrained_calls)


def test_an_uncached_hub_id_is_never_downloaded_and_names_the_command(monkeypatch,
                                                                       from_pretrained_calls):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")         # even with the network allowed
    with pytest.raises(NarratorError) as caught:
        load_model("dreamreel-tests/no-such-model", "cpu", torch.float32)
    assert from_pretrained_calls and all(call.get("local_files_only") is True
                                         for call in from_pretrained_calls)
    message = str(caught.value)
    assert "'dreamreel-tests/no-such-model'" in message and "never downloaded" in message
    assert "`dreamreel models pull dreamreel-tests/no-such-model`" in message
    assert "HF_HUB_OFFLINE" not in message and "--narrator storylets" in message


def test_offline_mode_is_named_in_the_advice(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(NarratorError, match="`dreamreel models pull dreamreel-tests/no-such-"
                                            "model` once HF_HUB_OFFLINE is unset"):
        load_model("dreamreel-tests/no-such-model", "cpu", torch.float32)
