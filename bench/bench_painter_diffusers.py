"""Benchmarks for the diffusers painter on this machine's CPU. Prints one JSON object.

- a tiny random Stable Diffusion pipeline (the test suite's sizes), saved and loaded through the
  real `make_painter("diffusers:<folder>")` path, at 64x64: load time, seconds per image
- a real-size SD-Turbo-architecture pipeline with random weights built in code (SD 2.1 base UNet,
  the 23-layer 1024-wide OpenCLIP text encoder, the SD VAE) at 512x512, 1 step, fp32, painted
  through DiffusersPainter.from_pipeline: seconds per image and where they go. Speed does not
  depend on the weights' values (denormals are flushed, as the painter does on CPU).
- a cache hit at 1280x720: ImageCache.get of a stored picture (target under 10 ms)

Results of a full run also go to bench/results/painter_diffusers_cpu.json. On a shared machine
the wall-clock figures include waiting for other processes: compare load_average_* and cpu_s.
Run: .venv/bin/python bench/bench_painter_diffusers.py [--quick] (--quick skips the real size)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.atomic import write_atomic  # noqa: E402
from engine.painters import make_painter  # noqa: E402
from engine.painters.diffusers import DiffusersPainter  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "painter_diffusers_cpu.json"
PROMPT = "a lighthouse on a cliff at night, rain, oil painting"
VOCAB = ["l", "o", "w", "e", "r", "s", "t", "i", "d", "n", "lo", "l</w>", "w</w>", "r</w>",
         "t</w>", "low</w>", "er</w>", "lowest</w>", "newer</w>", "wider", "<unk>",
         "<|startoftext|>", "<|endoftext|>"]


def tokenizer(folder: Path):
    """A hand-written CLIP BPE tokenizer: token ids do not matter for speed, length 77 does."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(VOCAB)}))
    (folder / "merges.txt").write_text("#version: 0.2\nl o\nlo w</w>\ne r</w>\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)


def build_pipeline(folder: Path, real_size: bool):
    """A Stable Diffusion pipeline with random weights: tiny, or SD-Turbo's architecture."""
    import torch
    from diffusers import (AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    if real_size:  # stabilityai/sd-turbo = SD 2.1 base: UNet 865M, text encoder 340M, VAE 84M
        unet = UNet2DConditionModel(
            sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
            block_out_channels=(320, 640, 1280, 1280), attention_head_dim=(5, 10, 20, 20),
            down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
            up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
            cross_attention_dim=1024, use_linear_projection=True)
        text = CLIPTextConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=23,
                              num_attention_heads=16, hidden_act="gelu", projection_dim=512,
                              max_position_embeddings=77, vocab_size=49408)
        vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), latent_channels=4,
                            down_block_types=("DownEncoderBlock2D",) * 4, layers_per_block=2,
                            up_block_types=("UpDecoderBlock2D",) * 4, sample_size=512)
    else:  # diffusers' get_dummy_components sizes
        unet = UNet2DConditionModel(
            block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4,
            out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32)
        text = CLIPTextConfig(bos_token_id=0, eos_token_id=2, pad_token_id=1, hidden_size=32,
                              intermediate_size=37, num_attention_heads=4, num_hidden_layers=5,
                              vocab_size=1000)
        vae = AutoencoderKL(block_out_channels=(32, 64), latent_channels=4,
                            down_block_types=("DownEncoderBlock2D",) * 2,
                            up_block_types=("UpDecoderBlock2D",) * 2)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, steps_offset=1,
                                       beta_schedule="scaled_linear", timestep_spacing="trailing")
    return StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=CLIPTextModel(text),
                                   tokenizer=tokenizer(folder / "tokenizer"), scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)


def time_parts(pipe) -> dict[str, list[float]]:
    """Wrap the text encoder, UNet and VAE decoder to record seconds per call."""
    spent: dict[str, list[float]] = {"text_encoder": [], "unet": [], "vae_decode": []}

    def timed(name, call):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                spent[name].append(time.perf_counter() - start)
        return wrapper

    pipe.text_encoder.forward = timed("text_encoder", pipe.text_encoder.forward)
    pipe.unet.forward = timed("unet", pipe.unet.forward)
    pipe.vae.decode = timed("vae_decode", pipe.vae.decode)
    return spent


def bench_tiny(tmp: Path, runs: int = 5) -> dict:
    """Tiny model through the real load path; per image with 1 torch thread and with the default
    (tiny ops on a busy 2-core machine are far slower with 2 contending threads)."""
    import torch

    pipe = build_pipeline(tmp / "tiny-src", real_size=False)
    pipe.save_pretrained(tmp / "tiny")
    painter = make_painter(f"diffusers:{tmp / 'tiny'}", steps=2)
    start = time.perf_counter()
    painter.load()
    out = {"size": "64x64", "steps": painter.steps, "load_s": round(time.perf_counter() - start, 3)}
    default_threads = torch.get_num_threads()
    for threads in sorted({1, default_threads}):
        torch.set_num_threads(threads)
        painter.paint(PROMPT, 0, (64, 64))  # warm-up
        times = []
        for seed in range(runs):
            start = time.perf_counter()
            painter.paint(PROMPT, seed, (64, 64))
            times.append(time.perf_counter() - start)
        out[f"median_s_per_image_{threads}_threads"] = round(statistics.median(times), 3)
    torch.set_num_threads(default_threads)
    return out


def bench_real_size(tmp: Path) -> dict:
    import torch

    torch.set_flush_denormal(True)
    start = time.perf_counter()
    pipe = build_pipeline(tmp / "real-src", real_size=True)
    build_s = time.perf_counter() - start
    params = {name: round(sum(p.numel() for p in getattr(pipe, name).parameters()) / 1e6, 1)
              for name in ("unet", "text_encoder", "vae")}
    painter = DiffusersPainter.from_pipeline(pipe, "bench/sd-turbo-architecture-random-weights")
    spent = time_parts(pipe)
    start, cpu_start = time.perf_counter(), time.process_time()
    image = painter.paint(PROMPT, 1, (512, 512))
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    parts = {name: round(sum(values), 2) for name, values in spent.items()}
    return {"size": f"{image.size[0]}x{image.size[1]}", "steps": painter.steps, "dtype": "float32",
            "guidance_scale": painter.guidance_scale, "params_millions": params,
            "build_random_model_s": round(build_s, 1), "s_per_image": round(seconds, 2),
            "cpu_s_per_image": round(cpu_seconds, 2),  # CPU time summed over threads (busy cores x seconds)
            "seconds_by_part": parts, "runs": 1,
            "note": "one cold run (first call), random weights, full text encoder at real size"}


def bench_cache_hit(tmp: Path, runs: int = 30) -> dict:
    try:
        from engine.painters.imagecache import ImageCache, cache_key
    except ImportError as err:
        return {"error": f"engine.painters.imagecache not available yet ({err})"}
    image = make_painter("procedural").paint(PROMPT, 3, (1280, 720))  # a picture with real detail
    cache = ImageCache(tmp / "cache", max_bytes=256 << 20)
    key = cache_key("procedural", "bench", PROMPT, "", 3, (1280, 720), 1)
    cache.put(key, image)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        hit = cache.get(key)
        hit.load()
        times.append((time.perf_counter() - start) * 1000)
    return {"size": "1280x720", "median_ms": round(statistics.median(times), 2),
            "p90_ms": round(sorted(times)[int(0.9 * runs)], 2), "target_ms": 10}


def main() -> None:
    import torch

    quick = "--quick" in sys.argv
    results: dict = {"machine": f"{os.cpu_count()} cores, CPU", "torch_threads": torch.get_num_threads(),
                     "load_average_at_start": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as tmp:
        results["tiny_pipeline"] = bench_tiny(Path(tmp))
        results["cache_hit"] = bench_cache_hit(Path(tmp))
        if not quick:
            results["sd_turbo_architecture"] = bench_real_size(Path(tmp))
    results["load_average_at_end"] = round(os.getloadavg()[0], 2)
    text = json.dumps(results, indent=2)
    print(text)
    if not quick:  # a quick run has no real-size figure: keep the full results
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(RESULTS, (text + "\n").encode("utf-8"))


if __name__ == "__main__":
    main()
