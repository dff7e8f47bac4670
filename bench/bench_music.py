"""Benchmark: the procedural score, 30 s of music for every mood, and (optionally) MusicGen.

Prints one JSON object. For each mood: the loop's length (whole bars, so 30 s or a little
more), the best of --repeat renders in seconds, that time per 30 s of audio (the figure the
issue asks to keep under 1 s), the loudness (RMS dBFS), the peak and the seam's jump against the
largest step near it. With --musicgen MODEL (a folder or a cached hub id): load time and the
time to compose --musicgen-seconds of audio on the device engine.compute picks. Real-size speed
without a download: --musicgen-random builds facebook/musicgen-small's architecture with random
weights (speed does not depend on the weights' values).

Run: nice -n 5 .venv/bin/python bench/bench_music.py [--repeat 3] [--musicgen-random]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from engine.audio.music import MusicRequest, make_composer  # noqa: E402
from engine.story.schema import MOODS  # noqa: E402


def procedural(repeat: int, seconds: float) -> dict:
    composer = make_composer("procedural")
    composer.compose(MusicRequest("warmup", "calm", seconds=8))
    out = {}
    for mood in MOODS:
        best, clip = float("inf"), None
        for _ in range(repeat):
            start = time.perf_counter()
            clip = composer.compose(MusicRequest("lantern_coast", mood, seconds=seconds))
            best = min(best, time.perf_counter() - start)
        samples = clip.samples.astype(np.float64)
        near = np.abs(np.diff(np.concatenate([samples[-512:], samples[:512]]), axis=0))
        near[511] = 0
        out[mood] = {"loop_s": round(clip.seconds, 2), "render_s": round(best, 3),
                     "per_30s_audio_s": round(best * 30.0 / clip.seconds, 3),
                     "rms_dbfs": round(20 * np.log10(np.sqrt((samples ** 2).mean())), 1),
                     "peak": round(float(np.abs(samples).max()), 3),
                     "seam_jump": round(float(np.abs(samples[0] - samples[-1]).max()), 4),
                     "largest_step_near_seam": round(float(near.max()), 4)}
    return out


def random_musicgen_small(folder: Path) -> str:
    """facebook/musicgen-small's architecture (T5-base encoder, EnCodec 32 kHz, 24 layers of
    1024, 4 codebooks of 2048) with random weights, and a stand-in word tokenizer."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import (EncodecConfig, EncodecFeatureExtractor, MusicgenConfig,
                              MusicgenDecoderConfig, MusicgenForConditionalGeneration,
                              MusicgenProcessor, PreTrainedTokenizerFast, T5Config)
    torch.manual_seed(0)
    words = Tokenizer(models.WordLevel(unk_token="<unk>"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    words.train_from_iterator(["a calm tense dark eerie mood music loop scene at the harbour"],
                              trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"]))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=words, pad_token="<pad>",
                                        eos_token="</s>", unk_token="<unk>")
    config = MusicgenConfig(
        text_encoder=T5Config(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12,
                              num_heads=12),
        audio_encoder=EncodecConfig(sampling_rate=32000, audio_channels=1, normalize=False,
                                    codebook_size=2048, num_filters=64, hidden_size=128,
                                    upsampling_ratios=[8, 5, 4, 4], target_bandwidths=[2.2],
                                    num_lstm_layers=2, compress=2, use_causal_conv=False,
                                    norm_type="weight_norm"),
        decoder=MusicgenDecoderConfig(vocab_size=2048, hidden_size=1024, num_hidden_layers=24,
                                      num_attention_heads=16, ffn_dim=4096, num_codebooks=4,
                                      max_position_embeddings=2048, pad_token_id=2048,
                                      bos_token_id=2048, decoder_start_token_id=2048))
    MusicgenForConditionalGeneration(config).save_pretrained(folder)
    MusicgenProcessor(feature_extractor=EncodecFeatureExtractor(feature_size=1,
                                                                sampling_rate=32000),
                      tokenizer=tokenizer).save_pretrained(folder)
    return str(folder)


def musicgen(model: str, seconds: float) -> dict:
    import torch
    torch.set_flush_denormal(True)   # random weights: denormals slow x86 CPUs about 10x
    composer = make_composer(f"musicgen:{model}")
    start = time.perf_counter()
    composer._load()
    loaded = time.perf_counter() - start
    request = MusicRequest("lantern_coast", "tense", place="harbour", seconds=seconds, seed=1)
    start = time.perf_counter()
    clip = composer.compose(request)
    took = time.perf_counter() - start
    device = composer._loaded[3]
    name = torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or "cpu"
    return {"model": model, "device": device, "device_name": name, "load_s": round(loaded, 2),
            "audio_s": round(clip.seconds, 2), "compose_s": round(took, 2),
            "realtime_factor": round(clip.seconds / took, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--musicgen", default="")
    parser.add_argument("--musicgen-random", action="store_true")
    parser.add_argument("--musicgen-seconds", type=float, default=10.0)
    args = parser.parse_args()
    result = {"procedural": procedural(args.repeat, args.seconds)}
    worst = max(m["per_30s_audio_s"] for m in result["procedural"].values())
    result["procedural_worst_per_30s_audio_s"] = worst
    if args.musicgen_random and not args.musicgen:
        import tempfile
        args.musicgen = random_musicgen_small(Path(tempfile.mkdtemp()) / "musicgen-small-random")
    if args.musicgen:
        result["musicgen"] = musicgen(args.musicgen, args.musicgen_seconds)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
