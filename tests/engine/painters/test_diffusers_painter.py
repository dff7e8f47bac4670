"""The diffusers painter, end to end on a tiny random Stable Diffusion pipeline built in code.

The pipeline is saved with save_pretrained and loaded back through the real path
(make_painter("diffusers:<folder>") -> AutoPipelineForText2Image.from_pretrained). Offline, CPU.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from engine.errors import JobCancelled, PainterError  # noqa: E402
from engine.painters import make_painter  # noqa: E402
from engine.painters.diffusers import RECOMMENDED, DiffusersPainter, is_one_step_model  # noqa: E402
from tests.support.tiny_diffusers import save_tiny_pipeline  # noqa: E402
from tests.support.torch_threads import one_thread  # noqa: E402,F401 (autouse fixture)

SIZE = (64, 64)
PROMPT = "a lighthouse on a cliff at night, rain"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    return save_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture(scope="session")
def tiny_model_with_checker(tmp_path_factory) -> str:
    return save_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd-checked"), safety_checker=True)


@pytest.fixture(scope="module")
def painter(tiny_model) -> DiffusersPainter:
    """Loaded once through make_painter (the real from_pretrained path), 2 steps."""
    made = make_painter("diffusers:" + tiny_model, steps=2)
    made.load()
    return made


def count_unet_calls(painter) -> list[tuple]:
    """Record the latent shape of every UNet call (removed at the end of the test)."""
    calls: list[tuple] = []
    handle = painter.pipeline.unet.register_forward_hook(
        lambda module, args, output: calls.append(tuple(args[0].shape)))
    calls.append(handle)
    return calls


def test_loads_through_make_painter_with_the_protocols_attributes(painter, tiny_model):
    from engine.painters import Painter

    assert isinstance(painter, Painter)
    assert (painter.id, painter.model, painter.steps) == ("diffusers", tiny_model, 2)
    assert type(painter.pipeline).__name__ == "StableDiffusionPipeline"
    assert painter.pipeline.device.type == "cpu"


def test_same_seed_same_image_different_seed_different_image(painter):
    first = np.asarray(painter.paint(PROMPT, 1234, SIZE))
    again = np.asarray(painter.paint(PROMPT, 1234, SIZE))
    other = np.asarray(painter.paint(PROMPT, 1235, SIZE))
    assert first.shape == (64, 64, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again)
    assert np.abs(first.astype(int) - other.astype(int)).mean() > 1.0


def test_size_is_respected_and_painted_in_multiples_of_8(painter):
    calls = count_unet_calls(painter)
    try:
        image = painter.paint(PROMPT, 5, (70, 45))
    finally:
        calls.pop(0).remove()
    assert image.mode == "RGB" and image.size == (70, 45)
    # the VAE of the tiny model halves each side: 72x48 painted, latents 36x24
    assert calls and all(shape[-2:] == (24, 36) for shape in calls)


def test_large_requests_are_painted_at_the_models_native_area(painter):
    assert painter.paint_size(64, 64) == (64, 64)
    width, height = painter.paint_size(1280, 720)  # native area of the tiny model: 64x64
    assert width % 8 == 0 and height % 8 == 0 and abs(width / height - 16 / 9) < 0.2
    assert width * height <= 64 * 64 * 1.2
    assert DiffusersPainter.from_pipeline(painter.pipeline, "x", max_pixels=0).paint_size(1280, 720) \
        == (1280, 720)


def test_progress_is_reported_per_step(painter):
    seen: list[float] = []
    painter.paint(PROMPT, 7, SIZE, on_progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen) and len(seen) == painter.steps + 2  # start, each step, end


def test_cancelling_stops_within_a_step(tiny_model):
    slow = make_painter("diffusers:" + tiny_model, steps=6)
    slow.load()
    calls = count_unet_calls(slow)

    def cancel_after_first_step(fraction: float) -> None:
        if fraction > 0.0:
            raise JobCancelled()

    try:
        with pytest.raises(JobCancelled):
            slow.paint(PROMPT, 3, SIZE, on_progress=cancel_after_first_step)
    finally:
        calls.pop(0).remove()
    assert 1 <= len(calls) <= 2  # 6 steps asked for; it stopped after the first
    assert len(slow.paint(PROMPT, 3, SIZE).size) == 2  # still usable afterwards


def test_missing_folder_is_a_painter_error_naming_it(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(PainterError, match="no-such-model") as caught:
        make_painter(f"diffusers:{missing}").paint(PROMPT, 1, SIZE)
    assert "does not exist" in str(caught.value) and "--painter procedural" in str(caught.value)


def test_folder_that_is_no_diffusers_model_is_a_painter_error(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\0")
    with pytest.raises(PainterError, match="model_index.json"):
        make_painter(f"diffusers:{tmp_path}").paint(PROMPT, 1, SIZE)


def test_uncached_hub_id_offline_says_how_to_pull(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    painter = make_painter("diffusers:dreamreel-tests/no-such-model")  # nothing loaded yet
    with pytest.raises(PainterError) as caught:
        painter.paint(PROMPT, 1, SIZE)
    message = str(caught.value)
    assert "dreamreel-tests/no-such-model" in message and "HF_HUB_OFFLINE" in message
    assert "dreamreel models pull dreamreel-tests/no-such-model" in message


def test_play_never_downloads_even_online(monkeypatch):
    from diffusers import DiffusionPipeline

    calls: list[dict] = []
    real = DiffusionPipeline.download

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(DiffusionPipeline, "download", spy)
    with pytest.raises(PainterError) as caught:
        make_painter("diffusers:dreamreel-tests/no-such-model").paint(PROMPT, 1, SIZE)
    assert calls and all(call.get("local_files_only") is True for call in calls)
    message = str(caught.value)
    assert "`dreamreel models pull dreamreel-tests/no-such-model`" in message
    assert "HF_HUB_OFFLINE" not in message


def test_hub_id_in_the_local_cache_loads_offline(tiny_model, tmp_path, monkeypatch):
    import shutil

    import huggingface_hub.constants

    repo, commit = tmp_path / "hub" / "models--dreamreel-tests--tiny-sd", "0" * 40
    shutil.copytree(tiny_model, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    painter = make_painter("diffusers:dreamreel-tests/tiny-sd", steps=1)
    assert painter.paint(PROMPT, 1, SIZE).size == SIZE
    assert painter.model == "dreamreel-tests/tiny-sd"


def test_turbo_models_default_to_one_unguided_step():
    turbo = DiffusersPainter("stabilityai/sd-turbo")
    assert is_one_step_model("stabilityai/sdxl-turbo") and not is_one_step_model("runwayml/sd-v1-5")
    assert (turbo.steps, turbo.guidance_scale) == (1, 0.0)
    assert turbo.paint_size(1280, 720)[0] * turbo.paint_size(1280, 720)[1] <= 512 * 512 * 1.05
    assert DiffusersPainter("someone/plain-sd").steps == 20
    assert DiffusersPainter("stabilityai/sd-turbo", steps=4).steps == 4
    with pytest.raises(PainterError, match="content_filter"):
        DiffusersPainter("stabilityai/sd-turbo", content_filter="strict")


def test_recommended_models_are_listed_for_models_list():
    ids = [entry["id"] for entry in RECOMMENDED]
    assert {"stabilityai/sd-turbo", "stabilityai/sdxl-turbo"} <= set(ids) and len(ids) >= 3
    assert all(e["kind"] == "painter" and e["size_gb"] > 0 and e["note"] for e in RECOMMENDED)


def test_importing_the_module_loads_no_torch():
    code = ("import sys, engine.painters.diffusers as d; assert d.RECOMMENDED;"
            "print([m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- content filter -------------------------------------------------------------------------
def set_checker_verdict(painter, flag: bool) -> None:
    """The tiny checker's concept thresholds decide: below any cosine -> every image flagged."""
    checker = painter.pipeline.safety_checker
    checker.concept_embeds_weights.data.fill_(-2.0 if flag else 2.0)
    checker.special_care_embeds_weights.data.fill_(-2.0 if flag else 2.0)


def test_standard_filter_blurs_a_flagged_image(tiny_model_with_checker):
    painter = make_painter("diffusers:" + tiny_model_with_checker, steps=2)
    painter.load()
    set_checker_verdict(painter, flag=False)
    clean = painter.paint(PROMPT, 9, SIZE)
    assert painter.last_flagged is False and "dreamreel_flagged" not in clean.info
    set_checker_verdict(painter, flag=True)
    flagged = painter.paint(PROMPT, 9, SIZE)
    assert painter.last_flagged is True and flagged.info.get("dreamreel_flagged") == "1"
    assert flagged.size == SIZE and np.asarray(flagged).max() > 0  # blurred, not blacked out
    detail = lambda im: np.abs(np.diff(np.asarray(im, dtype=float), axis=1)).mean()  # noqa: E731
    assert detail(flagged) < detail(clean) / 4
    assert painter.pipeline.safety_checker is not None  # restored after each paint


def test_filter_off_does_not_load_the_checker(tiny_model_with_checker):
    painter = make_painter("diffusers:" + tiny_model_with_checker, steps=2, content_filter="off")
    painter.paint(PROMPT, 9, SIZE)
    assert painter.pipeline.safety_checker is None and painter.last_flagged is False


# -- with the image cache -------------------------------------------------------------------
class CountingPainter:
    """Wraps the real painter to count paint() calls."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0
        self.id, self.model, self.steps = inner.id, inner.model, inner.steps

    def paint(self, prompt, seed, size, on_progress=None):
        self.calls += 1
        return self.inner.paint(prompt, seed, size, on_progress)


def cached_paint(cache, painter, key, seed):
    """What a session's painting job does: the cache first, else paint and store."""
    image = cache.get(key)
    if image is None:
        image = painter.paint(PROMPT, seed, SIZE)
        cache.put(key, image)
    return image


def test_image_cache_hit_skips_painting_and_a_corrupt_file_is_repainted(painter, tmp_path):
    imagecache = pytest.importorskip("engine.painters.imagecache")
    cache = imagecache.ImageCache(tmp_path / "cache", max_bytes=64 << 20)
    counting = CountingPainter(painter)
    key = imagecache.cache_key(counting.id, counting.model, PROMPT, "", 11, SIZE, counting.steps)
    files_before = {p for p in tmp_path.rglob("*") if p.is_file()}
    first = cached_paint(cache, counting, key, 11)
    second = cached_paint(cache, counting, key, 11)
    assert counting.calls == 1
    assert np.array_equal(np.asarray(first.convert("RGB")), np.asarray(second.convert("RGB")))

    stored = [p for p in tmp_path.rglob("*") if p.is_file() and p not in files_before]
    assert stored, "the painted image should be stored in a file"
    image_file = max(stored, key=lambda p: p.stat().st_size)  # the picture, not an index
    data = bytearray(image_file.read_bytes())
    data[len(data) // 2:] = b"\x00" * (len(data) - len(data) // 2)
    image_file.write_bytes(bytes(data))
    third = cached_paint(cache, counting, key, 11)
    assert counting.calls == 2  # the damaged file was not trusted: painted again
    assert np.array_equal(np.asarray(first.convert("RGB")), np.asarray(third.convert("RGB")))
    assert cached_paint(cache, counting, key, 11) is not None and counting.calls == 2
