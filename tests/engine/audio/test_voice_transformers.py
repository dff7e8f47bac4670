"""The transformers voice with a tiny random-weight VITS built in code, through the real
text-to-speech pipeline and the clip cache; and the errors for models that are not there."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.audio.clips import Clip, ClipCache
from engine.audio.voices import AudioError, lines, make_voice, speak_cached, voice_key

pytest.importorskip("torch")
pytest.importorskip("transformers")

SPEAKERS = 2


@pytest.fixture(scope="module")
def tiny_vits(tmp_path_factory) -> str:
    """A folder with a VITS model (random weights, two speakers) and its character tokenizer."""
    import torch
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    folder = tmp_path_factory.mktemp("tiny-vits")
    symbols = ["<pad>", "<unk>", " "] + list("abcdefghijklmnopqrstuvwxyz'.,!?-")
    (folder / "vocab.json").write_text(json.dumps({s: i for i, s in enumerate(symbols)}))
    tokenizer = VitsTokenizer(str(folder / "vocab.json"), phonemize=False, add_blank=True)
    torch.manual_seed(0)
    config = VitsConfig(
        vocab_size=len(symbols), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        ffn_dim=16, flow_size=16, spectrogram_bins=17, upsample_initial_channel=16,
        upsample_rates=(4, 4), upsample_kernel_sizes=(8, 8), resblock_kernel_sizes=(3,),
        resblock_dilation_sizes=((1,),), duration_predictor_filter_channels=16,
        duration_predictor_num_flows=1, prior_encoder_num_flows=1,
        prior_encoder_num_wavenet_layers=1, posterior_encoder_num_wavenet_layers=1,
        depth_separable_num_layers=1, num_speakers=SPEAKERS, speaker_embedding_size=8,
        sampling_rate=16000, pad_token_id=0)
    VitsModel(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def vits_voice(tiny_vits):
    return make_voice(f"transformers:{tiny_vits}", device="cpu")


def test_a_vits_model_speaks_through_the_pipeline(vits_voice):
    short = vits_voice.speak("the light is out.")
    long = vits_voice.speak("the light is out, and the fog comes in over the harbour wall like "
                            "a slow grey tide, and somewhere far out a bell tolls once.")
    assert vits_voice.id == "transformers" and short.rate == 16000 and short.channels == 1
    assert short.samples.dtype == np.float32 and np.abs(short.samples).max() <= 1.0
    assert len(short.samples) > 0 and np.abs(short.samples).max() > 0
    assert long.seconds > 2 * short.seconds        # random weights, but durations follow text


def test_speech_is_seeded_and_speakers_differ(vits_voice, tiny_vits):
    text = "keep the light lit."
    first, again = vits_voice.speak(text), vits_voice.speak(text)
    assert np.array_equal(first.samples, again.samples)
    other = make_voice(f"transformers:{tiny_vits}", device="cpu", seed=5).speak(text)
    assert not np.array_equal(first.samples, other.samples)
    second_speaker = vits_voice.speak(text, "1")
    assert not np.array_equal(first.samples, second_speaker.samples)
    assert np.array_equal(vits_voice.speak(text, "0").samples, first.samples)   # "" is speaker 0
    with pytest.raises(AudioError, match="speakers 0 to 1"):
        vits_voice.speak(text, "en+f3")


def test_speed_changes_the_vits_speaking_rate(tiny_vits, vits_voice):
    text = "the fog comes in over the harbour wall."
    fast = make_voice(f"transformers:{tiny_vits}", device="cpu", speed=2.0).speak(text)
    assert fast.seconds < 0.7 * vits_voice.speak(text).seconds


def test_a_scene_is_spoken_into_the_cache_and_replayed_without_the_model(vits_voice, tmp_path,
                                                                        monkeypatch):
    cache = ClipCache(tmp_path / "clips")
    scene = lines('ivy hauls the boat up. "five ships," Ivy says.', "",
                  {"Ivy Marsh": "1"})
    assert [line.voice for line in scene] == ["", "1", ""]
    paths = [speak_cached(vits_voice, cache, line.text, line.voice) for line in scene]
    assert all(Clip.from_wav(path).rate == 16000 for path in paths)
    assert [cache.get_path(voice_key(vits_voice, line.text, line.voice)) for line in scene] \
        == paths

    def refuse(*_args, **_kwargs):
        raise AssertionError("spoke again instead of using the cache")

    monkeypatch.setattr(vits_voice, "speak", refuse)
    assert [speak_cached(vits_voice, cache, line.text, line.voice) for line in scene] == paths


def test_a_model_missing_from_the_local_cache_says_how_to_download_it():
    voice = make_voice("transformers:facebook/mms-tts-nowhere")
    with pytest.raises(AudioError, match="dreamreel models pull facebook/mms-tts-nowhere"):
        voice.speak("hello")


def test_a_folder_that_is_missing_or_not_a_speech_model_is_refused(tmp_path):
    with pytest.raises(AudioError, match="No voice model folder"):
        make_voice(f"transformers:{tmp_path / 'nowhere'}").speak("hello")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(AudioError, match="as text to speech"):
        make_voice(f"transformers:{tmp_path}").speak("hello")
