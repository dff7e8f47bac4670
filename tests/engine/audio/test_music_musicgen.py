"""MusicGen through the real transformers pipeline and the clip cache, with a tiny random model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from engine.audio.clips import ClipCache  # noqa: E402
from engine.audio.music import make_composer, music_for, track_key  # noqa: E402
from engine.audio.music.musicgen import make_loop, resample_loop  # noqa: E402
from engine.errors import AudioError  # noqa: E402
from engine.worlds.loading import load_world  # noqa: E402

WORDS = "calm bright tense dark eerie melancholy mood music loop scene at the harbour , " \
        "instrumental no vocals steady for a atmospheric cinematic game soundtrack"


@pytest.fixture(scope="module")
def tiny_musicgen(tmp_path_factory) -> Path:
    """A tiny random-weight MusicGen (T5 text encoder, EnCodec at 8 kHz, 2 codebooks) and its
    processor, saved as a model folder the real from_pretrained path loads."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import (EncodecConfig, EncodecFeatureExtractor, MusicgenConfig,
                              MusicgenDecoderConfig, MusicgenForConditionalGeneration,
                              MusicgenProcessor, PreTrainedTokenizerFast, T5Config)

    torch.manual_seed(0)
    words = Tokenizer(models.WordLevel(unk_token="<unk>"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    words.train_from_iterator([WORDS], trainers.WordLevelTrainer(
        special_tokens=["<pad>", "</s>", "<unk>"]))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=words, pad_token="<pad>",
                                        eos_token="</s>", unk_token="<unk>", model_max_length=64)
    codes = 32
    config = MusicgenConfig(
        text_encoder=T5Config(vocab_size=len(tokenizer), d_model=16, d_kv=4, d_ff=32,
                              num_layers=1, num_heads=4, pad_token_id=0, eos_token_id=1),
        audio_encoder=EncodecConfig(hidden_size=codes, compress=1, num_filters=2,
                                    codebook_size=codes, codebook_dim=codes,
                                    num_residual_layers=1, num_lstm_layers=1,
                                    upsampling_ratios=[8, 8, 5], sampling_rate=8000,
                                    target_bandwidths=[0.5]),     # 25 frames/s, 2 codebooks
        decoder=MusicgenDecoderConfig(vocab_size=codes, hidden_size=16, num_hidden_layers=1,
                                      num_attention_heads=4, ffn_dim=32, num_codebooks=2,
                                      max_position_embeddings=256, pad_token_id=codes,
                                      bos_token_id=codes, decoder_start_token_id=codes,
                                      tie_word_embeddings=False))
    folder = tmp_path_factory.mktemp("tiny-musicgen")
    MusicgenForConditionalGeneration(config).save_pretrained(folder)
    MusicgenProcessor(feature_extractor=EncodecFeatureExtractor(feature_size=1,
                                                                sampling_rate=8000),
                      tokenizer=tokenizer).save_pretrained(folder)
    return folder


def test_musicgen_composes_through_the_pipeline_and_the_cache(tiny_musicgen, tmp_path,
                                                              monkeypatch):
    composer = make_composer(f"musicgen:{tiny_musicgen}", device="cpu")
    world, cache = load_world("lantern_coast"), ClipCache(tmp_path / "cache")
    progress: list[float] = []
    first = music_for(world, "eerie", "harbour", composer=composer, cache=cache, seed=3,
                      seconds=2.0, on_progress=progress.append)
    assert first.source == "composed" and first.path.is_file()
    assert first.key == track_key(world, "eerie", "harbour", composer, seed=3, seconds=2.0)
    assert progress and progress[-1] == 1.0 and progress == sorted(progress)
    clip = cache.get(first.key)
    assert clip.rate == 44100 and clip.channels == 2 and abs(clip.seconds - 2.0) < 0.01
    assert 0.0 < np.abs(clip.samples).max() < 0.9

    def no_model_call(*args, **kwargs):
        raise AssertionError("the cached clip should have been used")

    monkeypatch.setattr(composer, "compose", no_model_call)
    again = music_for(world, "eerie", "harbour", composer=composer, cache=cache, seed=3,
                      seconds=2.0)
    assert again.source == "cache" and again.path == first.path
    # another place is another prompt, so another clip
    assert track_key(world, "eerie", "cliffs", composer, seed=3, seconds=2.0) != first.key


def test_the_prompt_comes_from_the_world_music_template(tiny_musicgen, tmp_path):
    import shutil

    from engine.audio.music.tracks import music_prompt
    from engine.worlds.loading import BUILTIN_WORLDS
    root = shutil.copytree(BUILTIN_WORLDS / "lantern_coast", tmp_path / "coast")
    world = load_world(root)
    prompt, problem = music_prompt(world, "tense", "lighthouse")
    assert "fiddle" in prompt and "tense" in prompt and "lighthouse" in prompt and not problem
    (root / "prompts").mkdir()
    (root / "prompts" / "music.j2").write_text("sea shanty, {{ mood }}, {{ place }}")
    assert music_prompt(load_world(root), "dark", "caves") == ("sea shanty, dark, caves", "")
    (root / "prompts" / "music.j2").write_text("{{ cycler.__init__.__globals__ }}")
    prompt, problem = music_prompt(load_world(root), "dark", "caves")
    assert "coast/prompts/music.j2" in problem and "dark" in prompt    # the default instead


def test_a_missing_model_is_a_clear_error(tmp_path):
    composer = make_composer(f"musicgen:{tmp_path / 'nowhere'}")
    from engine.audio.music import MusicRequest
    with pytest.raises(AudioError, match="does not exist"):
        composer.compose(MusicRequest("w", "calm", seconds=2.0))


def test_a_crossfaded_loop_has_no_seam_and_resamples_exactly():
    rate = 8000
    t = np.arange(int(2.5 * rate)) / rate
    sound = np.stack([np.sin(2 * np.pi * 3 * t + 1.0), np.cos(2 * np.pi * 5 * t)], axis=1)
    loop = make_loop(sound, int(0.5 * rate))
    assert len(loop) == 2 * rate
    assert np.abs(loop[0] - loop[-1]).max() <= np.abs(np.diff(loop, axis=0)).max() * 1.01
    tone = np.sin(2 * np.pi * 50 * np.arange(rate) / rate)[:, None]
    up = resample_loop(tone, rate, 44100)
    assert len(up) == 44100
    assert np.allclose(up[:, 0], np.sin(2 * np.pi * 50 * np.arange(44100) / 44100), atol=1e-6)
