"""The diffusers painter keeps the player's likeness through an IP-Adapter, on a tiny random
Stable Diffusion pipeline and a tiny adapter built in code (tests/support/tiny_diffusers.py),
loaded through the real paths (from_pretrained, load_ip_adapter with local files only)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from PIL import Image  # noqa: E402

from engine.errors import PainterError  # noqa: E402
from engine.painters import NOTICE_KEY, make_painter, takes_portrait  # noqa: E402
from engine.painters.diffusers import DiffusersPainter  # noqa: E402
from tests.support.tiny_diffusers import save_tiny_ip_adapter, save_tiny_pipeline  # noqa: E402
from tests.support.torch_threads import one_thread  # noqa: E402,F401 (autouse fixture)

SIZE = (64, 64)
PROMPT = "you on a quay at dusk, featuring Mira, tall, a crimson cloak"
RED, BLUE = Image.new("RGB", (48, 48), (200, 30, 30)), Image.new("RGB", (48, 48), (20, 40, 220))




@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    return save_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd-ip"))


@pytest.fixture(scope="module")
def tiny_adapter(tmp_path_factory) -> str:
    return save_tiny_ip_adapter(tmp_path_factory.mktemp("tiny-ip-adapter"))


def adapter_spec(model: str, adapter: str) -> str:
    return (f"diffusers:{model}?ip_adapter={adapter}&ip_adapter_weight=ip_adapter.safetensors"
            f"&ip_adapter_subfolder=&ip_adapter_scale=0.8")


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=int)


def test_the_spec_names_the_adapter_and_the_key_names_its_settings(tiny_model, tiny_adapter):
    painter = make_painter(adapter_spec(tiny_model, tiny_adapter), steps=2)
    assert painter.model == tiny_model and takes_portrait(painter)
    assert painter.likeness.ip_adapter == tiny_adapter and painter.likeness.ip_adapter_scale == 0.8
    assert tiny_adapter in painter.likeness_key and "scale=0.8" in painter.likeness_key
    assert make_painter("diffusers:" + tiny_model).likeness_key == ""
    with pytest.raises(PainterError, match="Unknown diffusers painter option 'ip_adaptr'"):
        make_painter(f"diffusers:{tiny_model}?ip_adaptr=x")
    with pytest.raises(PainterError, match="ip_adapter_scale"):
        make_painter(f"diffusers:{tiny_model}?ip_adapter=x&ip_adapter_scale=lots")


def test_the_portrait_steers_the_picture_through_the_loaded_adapter(tiny_model, tiny_adapter):
    painter = make_painter(adapter_spec(tiny_model, tiny_adapter), steps=2)
    plain = painter.paint(PROMPT, 5, SIZE)                       # no portrait: no adapter yet
    assert getattr(painter.pipeline, "image_encoder", None) is None
    calls = []
    original = type(painter.pipeline).__call__
    painter.pipeline.__class__ = type("Spied", (type(painter.pipeline),), {
        "__call__": lambda self, *a, **kw: calls.append(kw) or original(self, *a, **kw)})
    red = painter.paint(PROMPT, 5, SIZE, portrait=RED)
    assert type(painter.pipeline.image_encoder).__name__ == "CLIPVisionModelWithProjection"
    processors = {type(p).__name__ for p in painter.pipeline.unet.attn_processors.values()}
    assert any(name.startswith("IPAdapterAttnProcessor") for name in processors)
    assert calls[-1]["ip_adapter_image"].getpixel((0, 0)) == (200, 30, 30)   # the portrait
    assert NOTICE_KEY not in red.info
    blue = painter.paint(PROMPT, 5, SIZE, portrait=BLUE)
    assert np.abs(pixels(red) - pixels(blue)).mean() > 0.5       # another face, another picture
    assert np.abs(pixels(red) - pixels(plain)).mean() > 0.5
    again = painter.paint(PROMPT, 5, SIZE)     # adapter loaded, no portrait: as before it was
    assert np.array_equal(pixels(again), pixels(plain))
    assert calls[-1]["ip_adapter_image"].getpixel((0, 0)) == (0, 0, 0)


def test_without_an_adapter_the_picture_is_painted_from_the_text_and_says_so(tiny_model):
    painter = make_painter("diffusers:" + tiny_model, steps=2)
    plain = painter.paint(PROMPT, 5, SIZE)
    shown = painter.paint(PROMPT, 5, SIZE, portrait=RED)
    assert np.array_equal(pixels(plain), pixels(shown))
    assert "from the text look only" in shown.info[NOTICE_KEY]
    assert "?ip_adapter=" in shown.info[NOTICE_KEY]
    assert NOTICE_KEY not in plain.info


class NoAdapterPipeline:
    """A pipeline class without IP-Adapter support (no load_ip_adapter): wraps a real one."""

    def __init__(self, pipe):
        self._pipe = pipe

    def __getattr__(self, name):
        if name in ("load_ip_adapter", "set_ip_adapter_scale"):
            raise AttributeError(name)
        return getattr(self._pipe, name)

    def __call__(self, **kwargs):
        assert "ip_adapter_image" not in kwargs
        return self._pipe(**kwargs)


def test_a_pipeline_that_cannot_take_an_adapter_paints_with_one_clear_notice(tiny_model,
                                                                             tiny_adapter):
    loaded = make_painter("diffusers:" + tiny_model, steps=2)
    loaded.load()
    painter = DiffusersPainter.from_pipeline(
        NoAdapterPipeline(loaded.pipeline), tiny_model, steps=2, ip_adapter=tiny_adapter,
        ip_adapter_weight="ip_adapter.safetensors", ip_adapter_subfolder="")
    shown = painter.paint(PROMPT, 5, SIZE, portrait=RED)
    assert "cannot take an IP-Adapter" in shown.info[NOTICE_KEY]
    assert "NoAdapterPipeline" in shown.info[NOTICE_KEY]
    assert shown.size == SIZE


def test_a_missing_adapter_is_a_painter_error_that_never_downloads(tiny_model, tmp_path):
    painter = make_painter(f"diffusers:{tiny_model}?ip_adapter={tmp_path}&ip_adapter_subfolder=",
                           steps=2)
    with pytest.raises(PainterError, match="Could not load the IP-Adapter"):
        painter.paint(PROMPT, 5, SIZE, portrait=RED)
    with pytest.raises(PainterError, match="does not exist"):
        make_painter(f"diffusers:{tiny_model}?ip_adapter=./no/such/folder",
                     steps=2).paint(PROMPT, 5, SIZE, portrait=RED)


def test_a_story_with_a_portrait_paints_through_the_adapter_and_keys_the_portrait(
        config, tiny_model, tiny_adapter, tmp_path):
    from engine.painters.imagecache import cache_key
    from engine.session.core import Session
    from engine.session.jobs import InlineRunner
    from engine.story.persona import in_frame

    portrait = tmp_path / "me.png"
    RED.save(portrait)
    painter = make_painter(adapter_spec(tiny_model, tiny_adapter), steps=1)
    config = config.with_changes(images={"width": 64, "height": 64}, prefetch={"images": False})
    session = Session.new(config, painter=painter, runner=InlineRunner(),
                          player={"name": "Mira", "look": "tall, a crimson cloak",
                                  "portrait": str(portrait)})
    try:
        session.wait(images=True)
        for turn in range(12):
            version = session.scene().current
            if in_frame(session.player(), version.image_prompt, version.narration):
                break
            session.choose(turn % 2 if len(session.choices()) > 1 else 0)
            session.wait(images=True)
        else:
            pytest.fail("no scene in twelve showed the player")
        node, version = session.current, session.scene().current
        assert painter.pipeline.image_encoder is not None        # the adapter was loaded
        key = session.image_key(node)
        assert version.image_key == key and session.cache.get(key) is not None
        plain = cache_key("diffusers", tiny_model, session.image_prompt(node),
                          painter.negative_prompt, version.seed, (64, 64), 1)
        assert key != plain
        assert key == cache_key("diffusers", f"{tiny_model}|portrait="
                                f"{session.player().portrait}|{painter.likeness_key}",
                                session.image_prompt(node), painter.negative_prompt,
                                version.seed, (64, 64), 1)
    finally:
        session.close()
