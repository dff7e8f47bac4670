"""The `diffusers` painter: any diffusers text-to-image pipeline, by hub id or local folder.

`--painter diffusers:stabilityai/sd-turbo` (or `diffusers:/path/to/model`) paints scene images
with a real diffusion model. The pipeline is loaded lazily by the first paint(), on the worker
thread that runs it, once, and kept. Device and precision are picked automatically
(engine.compute): CUDA fp16, Apple MPS fp16, else CPU fp32 (half precision on CPUs without
native support is several times slower, and random or real weights produce denormals that
flush-to-zero avoids).

Weights: a local folder is used as it is. A hub id is taken from the local Hugging Face cache,
without network: play never downloads. A model missing there is a PainterError that says to run
`dreamreel models pull ID` (engine.models), the one command that downloads.

Likeness: with an IP-Adapter configured in the spec (`diffusers:<model>?ip_adapter=<folder or
hub id>&ip_adapter_weight=<file>&ip_adapter_subfolder=<folder>&ip_adapter_scale=0.6`), a
portrait passed to paint() steers the picture through diffusers' image-prompt adapter
(`load_ip_adapter`, `ip_adapter_image`): loaded once, from local files only. Without an adapter,
or with a pipeline class that cannot take one, the picture is painted from the text look alone
and says so in its `info["dreamreel_notice"]`, which the Session shows once.

This module must stay importable without torch or diffusers: both are imported only when a
pipeline is loaded, so `RECOMMENDED` can be read by `dreamreel models list` on any install.
"""

from __future__ import annotations

import gc
import importlib.util
import inspect
import json
import math
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter

from engine.compute import torch_device, torch_dtype, torch_threads
from engine.errors import JobCancelled, PainterError
from engine.hf_hub import pull_advice, pull_command
from engine.painters import NOTICE_KEY

# Models `dreamreel models list` suggests. size_gb: roughly what the default download of the
# pipeline's components (fp32 safetensors) weighs; estimates from the parameter counts.
RECOMMENDED: list[dict[str, Any]] = [
    {"id": "stabilityai/sd-turbo", "kind": "painter", "size_gb": 5.2,
     "note": "SD 2.1 distilled to 1 step at 512x512: the first choice. Instant on a GPU; tens of "
             "seconds to minutes a picture on a CPU. Stability AI community licence."},
    {"id": "stabilityai/sdxl-turbo", "kind": "painter", "size_gb": 13.9,
     "note": "SDXL distilled to 1 step at 512x512: better pictures; wants a GPU with 8+ GB. "
             "Stability AI community licence."},
    {"id": "IDKiro/sdxs-512-0.9", "kind": "painter", "size_gb": 2.7,
     "note": "SDXS: a pruned SD 2.1 UNet with a tiny decoder, 1 step at 512x512; the lightest, "
             "fastest on a CPU, rougher pictures."},
]

ONE_STEP_MARKERS = ("turbo", "sdxs")  # names of adversarially distilled 1-step models
ONE_STEP_PIXELS = 512 * 512           # the size those models were trained at
DEFAULT_STEPS = 20                    # for ordinary (guided) diffusion models
DEFAULT_NEGATIVE = "text, watermark, signature, blurry, lowres, jpeg artifacts, deformed"
CONTENT_FILTERS = ("off", "standard")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # owner/name
PLACEHOLDER_BLOCKS = 6                # a flagged image is shrunk to about this many blocks across



@dataclass(frozen=True)
class LikenessOptions:
    """The image-prompt adapter that keeps the player's likeness (spec options after "?")."""

    ip_adapter: str = ""           # adapter folder or hub id (local cache only); "" for none
    ip_adapter_weight: str = "ip-adapter_sd15.safetensors"   # the weights file in it
    ip_adapter_subfolder: str = "models"   # where the file and image_encoder/ sit (h94 layout)
    ip_adapter_scale: float = 0.6  # how strongly the portrait steers the picture (0..1)

    def identity(self) -> str:
        """What of these settings changes a picture ("" without an adapter): for cache keys."""
        if not self.ip_adapter:
            return ""
        return (f"ip_adapter={self.ip_adapter};weight={self.ip_adapter_weight};"
                f"subfolder={self.ip_adapter_subfolder};scale={self.ip_adapter_scale:g}")


LIKENESS_OPTIONS = tuple(f.name for f in fields(LikenessOptions))


def is_one_step_model(model: str) -> bool:
    """True for SD-Turbo class models (1 step, no guidance), judged from the id or folder name."""
    name = Path(model.rstrip("/\\")).name.lower() if model else ""
    return any(marker in name for marker in ONE_STEP_MARKERS)


def blurred_placeholder(image: Image.Image) -> Image.Image:
    """What a flagged picture becomes: its colours only, blurred past recognition."""
    width, height = image.size
    scale = PLACEHOLDER_BLOCKS / max(width, height)
    tiny = image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.BOX)
    return tiny.resize((width, height), Image.BICUBIC).filter(
        ImageFilter.GaussianBlur(radius=max(width, height) / 24))


def pull_hint(model: str, subject: str = "it") -> str:
    """The end of an error about a missing model: how to download it, or what to play with."""
    return f"{pull_advice(model, subject)}, or play with --painter procedural"


def resolve_model_folder(model: str) -> str:
    """The local folder holding model: the folder itself, or the hub id's cached snapshot.

    Never uses the network (downloads are `dreamreel models pull`'s alone). Used by the
    painter on its first paint().

    Raises:
        PainterError: the folder does not exist or is no diffusers model, or the hub id is not
            in the local cache (the message gives the command that downloads it).
    """
    path = Path(model).expanduser()
    if path.is_dir() or not HUB_ID.match(model):
        if not path.is_dir():
            raise PainterError(f'Image model folder "{model}" does not exist. Point '
                               f"--painter diffusers:<path> at a diffusers model folder, "
                               f"or {pull_hint('stabilityai/sd-turbo', 'one')}.")
        if not (path / "model_index.json").is_file():
            raise PainterError(f'"{model}" is not a diffusers model folder (it has no '
                               f"model_index.json). Save one with pipeline.save_pretrained(), "
                               f"or {pull_hint('stabilityai/sd-turbo', 'one')}.")
        return str(path)
    from diffusers import DiffusionPipeline  # noqa: PLC0415

    try:
        return str(DiffusionPipeline.download(model, local_files_only=True))
    except (OSError, ValueError) as err:  # not in the cache (LocalEntryNotFoundError)
        raise PainterError(f'Image model "{model}" is not in the local Hugging Face cache, and '
                           f"models are never downloaded during play: "
                           f"{pull_hint(model)}.") from err


def _dtype_keyword() -> str:
    """from_pretrained's precision argument: `dtype` in new diffusers, `torch_dtype` before."""
    from diffusers.pipelines import pipeline_utils  # noqa: PLC0415

    return "dtype" if hasattr(pipeline_utils, "_resolve_dtype") else "torch_dtype"


def _is_out_of_memory(err: BaseException) -> bool:
    return isinstance(err, MemoryError) or type(err).__name__ == "OutOfMemoryError" \
        or "out of memory" in str(err).lower()


class DiffusersPainter:
    """Paints with a diffusers text-to-image pipeline; see the module docstring.

    Attributes:
        id: "diffusers".
        model: the hub id or folder, as given (part of every image cache key).
        steps: denoising steps (1 for SD-Turbo class models, else 20 unless told).
        negative_prompt: what guided models steer away from (unused by 1-step models).
        content_filter: "standard" runs the pipeline's safety checker where it has one and
            returns a blurred placeholder for a flagged image; "off" does not load the checker.
        last_flagged: whether the latest paint() was flagged by the content filter.
    """

    id = "diffusers"
    takes_portrait = True   # paint() accepts the player's portrait (kept on this machine)

    def __init__(self, model: str, *, steps: int = 0, content_filter: str = "standard",
                 negative_prompt: str = DEFAULT_NEGATIVE, guidance_scale: float | None = None,
                 max_pixels: int | None = None, device: str | None = None,
                 check_install: bool = True, **likeness: Any):
        """Describe the painter; nothing is loaded until the first paint().

        Args:
            model: hub id ("stabilityai/sd-turbo") or a local diffusers model folder.
            steps: denoising steps; 0 picks 1 for SD-Turbo class models, else 20.
            content_filter: "standard" or "off" (see the class docstring).
            negative_prompt: used by guided (multi-step) models only.
            guidance_scale: None keeps the pipeline's default (0.0 for 1-step models).
            max_pixels: pictures larger than this are painted smaller, same shape, and scaled up;
                None uses the model's native area (512x512 for 1-step models); 0 paints at the
                requested size (rounded to multiples of 8).
            device: "cuda", "mps" or "cpu"; None picks the best available.
            check_install: fail now, not at the first paint, if torch or diffusers is missing.
            **likeness: the IP-Adapter options of LikenessOptions (ip_adapter,
                ip_adapter_weight, ip_adapter_subfolder, ip_adapter_scale), strings or values.

        Raises:
            PainterError: a bad setting, a missing model folder, or no torch/diffusers.
        """
        from engine.narrators import parse_options  # noqa: PLC0415

        self.model = str(model).strip()
        self.likeness = parse_options(LikenessOptions, likeness, "diffusers", PainterError,
                                      "painter")
        if not 0.0 <= self.likeness.ip_adapter_scale <= 2.0:
            raise PainterError(f"ip_adapter_scale must be between 0 and 2, not "
                               f"{self.likeness.ip_adapter_scale:g}.")
        if not self.model:
            raise PainterError('The diffusers painter needs a model: "diffusers:<hub id or path>".')
        if content_filter not in CONTENT_FILTERS:
            raise PainterError(f'images.content_filter must be "off" or "standard", '
                               f"not {content_filter!r}.")
        if check_install:
            missing = [name for name in ("torch", "diffusers", "transformers")
                       if importlib.util.find_spec(name) is None]
            if missing:
                raise PainterError(f"The diffusers painter needs {', '.join(missing)}: install the "
                                   'ML extras (`pip install "dreamreel[ml]"`), or use '
                                   "--painter procedural.")
            path = Path(self.model).expanduser()
            if not HUB_ID.match(self.model) and not path.is_dir():
                resolve_model_folder(self.model)  # raises the "does not exist" error now
        one_step = is_one_step_model(self.model)
        try:
            steps = int(steps or 0)
        except (TypeError, ValueError):
            raise PainterError(f"Painter option steps={steps!r} is not a valid int.") from None
        self.steps = steps if steps > 0 else (1 if one_step else DEFAULT_STEPS)
        self.guidance_scale = guidance_scale if guidance_scale is not None else \
            (0.0 if one_step else None)
        self.negative_prompt = negative_prompt
        self.content_filter = content_filter
        self.max_pixels = max_pixels
        self.device = device
        self.last_flagged = False
        self._one_step = one_step
        self._pipe: Any = None
        self._adapter_loaded = False
        self._lock = threading.RLock()  # one pipeline, possibly several worker threads

    @classmethod
    def from_pipeline(cls, pipeline: Any, model: str, **options: Any) -> "DiffusersPainter":
        """Wrap a pipeline already in memory (benchmarks, tests, embedding in other tools)."""
        painter = cls(model, check_install=False, **options)
        painter._prepare(pipeline)
        return painter

    @property
    def loaded(self) -> bool:
        """True once the pipeline is in memory."""
        return self._pipe is not None

    @property
    def pipeline(self) -> Any:
        """The diffusers pipeline once loaded (else None): for tools that tune it further."""
        return self._pipe

    @property
    def filter_active(self) -> bool | None:
        """Whether paint() screens images: None until loaded; False for "off" or a model without
        a safety checker (SD-Turbo and SDXL-Turbo ship none), so a UI can say so."""
        if self._pipe is None:
            return None
        return self.content_filter == "standard" and getattr(self._pipe, "safety_checker", None) is not None

    @property
    def likeness_key(self) -> str:
        """What a portrait's pictures depend on besides the portrait: the adapter settings;
        "" when none is configured (the portrait then changes nothing, nor the cache key)."""
        return self.likeness.identity()

    def load(self) -> None:
        """Load the pipeline now (paint() does it on first use): lets a UI warm up early.

        Raises:
            PainterError: the model is missing (not downloaded) or does not fit in memory.
        """
        with self._lock:
            if self._pipe is not None:
                return
            try:
                import torch  # noqa: PLC0415
                from diffusers import AutoPipelineForText2Image  # noqa: PLC0415
            except ImportError as err:
                raise PainterError(f'The diffusers painter is not available ({err}): install the '
                                   'ML extras (`pip install "dreamreel[ml]"`), or use '
                                   "--painter procedural.") from err
            device = torch_device(self.device)
            dtype = torch_dtype(device, bf16=False)   # pipelines are made and tested in fp16
            if device == "cpu":
                torch.set_num_threads(torch_threads())   # leave the window its core
            folder = resolve_model_folder(self.model)
            options: dict[str, Any] = {_dtype_keyword(): dtype, "local_files_only": True}
            try:
                index = json.loads((Path(folder) / "model_index.json").read_text(encoding="utf-8"))
                if self.content_filter == "off" and (index.get("safety_checker") or [None])[0]:
                    options.update(safety_checker=None, requires_safety_checker=False)
                pipe = AutoPipelineForText2Image.from_pretrained(folder, **options).to(device)
            except Exception as err:  # damaged files, unknown pipeline class, out of memory
                gc.collect()
                if _is_out_of_memory(err):
                    raise PainterError(f'Not enough memory to load image model "{self.model}" on '
                                       f"{device}. Close other programs, pick a smaller model "
                                       "(`dreamreel models list`), or use --painter procedural."
                                       ) from err
                raise PainterError(f'Could not load image model "{self.model}" from {folder} '
                                   f"({type(err).__name__}: {err}). Re-download it with "
                                   f"`{pull_command(self.model)}` or use --painter "
                                   "procedural.") from err
            self._prepare(pipe)

    def unload(self) -> None:
        """Drop the pipeline and free its memory (the next paint() loads it again)."""
        with self._lock:
            self._pipe = None
            self._adapter_loaded = False
            gc.collect()
            torch = sys.modules.get("torch")
            if torch is not None and torch.cuda.is_available():
                torch.cuda.empty_cache()

    def paint_size(self, width: int, height: int) -> tuple[int, int]:
        """The size the pipeline paints for a requested size: within the pixel budget, same
        shape, both sides multiples of 8 (what latent diffusion needs)."""
        budget = self.max_pixels
        if budget is None:
            budget = self._native_pixels()
        scale = math.sqrt(budget / (width * height)) if budget and width * height > budget else 1.0
        return (max(8, round(width * scale / 8) * 8), max(8, round(height * scale / 8) * 8))

    def paint(self, prompt: str, seed: int, size: tuple[int, int],
              on_progress: Callable[[float], None] | None = None,
              portrait: Image.Image | None = None) -> Image.Image:
        """Paint prompt as an RGB image of exactly size (width, height); same seed, same image.

        on_progress gets 0.0 first (before a possibly long first load), a fraction after each
        denoising step and 1.0 at the end; whatever it raises (JobCancelled) propagates at once,
        so a cancelled job stops within one step.

        portrait: the player's portrait, for a picture that shows the player. With an adapter
        configured and a pipeline that takes one, it steers the picture (ip_adapter_image);
        otherwise the picture is painted from the text alone and its info["dreamreel_notice"]
        says why.

        Raises:
            PainterError: loading or painting failed (the message says what to do).
        """
        try:
            width, height = (int(v) for v in size)
        except (TypeError, ValueError) as err:
            raise PainterError(f"Image size must be two whole numbers (width, height), got {size!r}.") from err
        if not (8 <= width <= 8192 and 8 <= height <= 8192):
            raise PainterError(f"Image size {width}x{height} is out of range (8 to 8192 a side).")
        report = on_progress or (lambda fraction: None)
        report(0.0)
        with self._lock:
            self.load()
            notice = self._adapt(portrait)
            image, flagged = self._run(prompt, seed, width, height, report,
                                       portrait if not notice else None)
            self.last_flagged = flagged
        if notice:
            image.info[NOTICE_KEY] = notice
        report(1.0)
        return image

    # -- internals --------------------------------------------------------------------------
    def _prepare(self, pipe: Any) -> None:
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        if getattr(pipe, "device", None) is not None and pipe.device.type == "cpu":
            sys.modules["torch"].set_flush_denormal(True)  # torch is loaded: pipe is a torch model
        self._pipe = pipe

    def _adapt(self, portrait: Image.Image | None) -> str:
        """Ready the adapter for a portrait (loading it once); "" when it will be used, else
        the notice that the picture is painted from the text look only."""
        if portrait is None:
            return ""
        advice = ("; set ?ip_adapter=<adapter folder or hub id> in the painter spec to keep "
                  "the likeness")
        if not self.likeness.ip_adapter:
            return (f'The image model "{self.model}" paints the player from the text look only'
                    f"{advice}.")
        if not callable(getattr(self._pipe, "load_ip_adapter", None)):
            return (f'The image model "{self.model}" ({type(self._pipe).__name__}) cannot take '
                    f"an IP-Adapter, so it paints the player from the text look only; pick a "
                    f"Stable Diffusion class model to keep the likeness.")
        if not self._adapter_loaded:
            self._load_adapter()
        return ""

    def _load_adapter(self) -> None:
        """load_ip_adapter from local files only (play never downloads)."""
        options = self.likeness
        source = options.ip_adapter
        path = Path(source).expanduser()
        if path.is_dir():
            source = str(path)
        elif not HUB_ID.match(source):
            raise PainterError(f'IP-Adapter folder "{options.ip_adapter}" does not exist: point '
                               f"?ip_adapter= at a folder or a hub id in the local cache.")
        try:
            self._pipe.load_ip_adapter(source, subfolder=options.ip_adapter_subfolder,
                                       weight_name=options.ip_adapter_weight,
                                       local_files_only=True)
        except Exception as err:  # missing files (not downloaded), wrong shapes for the model
            advice = ("check that the folder holds that file and its image_encoder/"
                      if path.is_dir() else "adapters are never downloaded during play: "
                      + pull_advice(options.ip_adapter, "it"))
            raise PainterError(
                f'Could not load the IP-Adapter "{options.ip_adapter}" '
                f'(file "{options.ip_adapter_weight}" in "{options.ip_adapter_subfolder}") for '
                f'"{self.model}" ({type(err).__name__}: {err}); {advice}.') from err
        self._adapter_loaded = True

    def _native_pixels(self) -> int:
        if self._one_step:
            return ONE_STEP_PIXELS
        denoiser = getattr(self._pipe, "unet", None) or getattr(self._pipe, "transformer", None)
        sample = getattr(getattr(denoiser, "config", None), "sample_size", None)
        scale = getattr(self._pipe, "vae_scale_factor", None)
        return (sample * scale) ** 2 if isinstance(sample, int) and isinstance(scale, int) else 0

    def _run(self, prompt: str, seed: int, width: int, height: int,
             report: Callable[[float], None],
             portrait: Image.Image | None = None) -> tuple[Image.Image, bool]:
        import torch  # noqa: PLC0415

        pipe, steps = self._pipe, max(1, int(self.steps))
        paint_w, paint_h = self.paint_size(width, height)
        kwargs: dict[str, Any] = {
            "prompt": prompt, "width": paint_w, "height": paint_h, "num_inference_steps": steps,
            "generator": torch.Generator("cpu").manual_seed(int(seed) & 0xFFFF_FFFF_FFFF_FFFF),
            "output_type": "pil"}
        if self.guidance_scale is not None:
            kwargs["guidance_scale"] = self.guidance_scale
        if self.negative_prompt and (self.guidance_scale is None or self.guidance_scale > 1):
            kwargs["negative_prompt"] = self.negative_prompt
        if self._adapter_loaded:
            # Once loaded, the adapter is in every call: a picture without the player gets a
            # blank image at scale 0, which diffusers skips, so it is the adapter-free picture.
            pipe.set_ip_adapter_scale(self.likeness.ip_adapter_scale if portrait is not None
                                      else 0.0)
            kwargs["ip_adapter_image"] = portrait.convert("RGB") if portrait is not None \
                else Image.new("RGB", (64, 64))
        if "callback_on_step_end" in inspect.signature(pipe.__call__).parameters:
            def on_step(_pipe: Any, step: int, _timestep: Any, tensors: dict) -> dict:
                report((step + 1) / (steps + 1))  # the decode after the last step is one more
                return tensors
            kwargs["callback_on_step_end"] = on_step
        checker = getattr(pipe, "safety_checker", None) if self.content_filter == "standard" else None
        if checker is not None:
            pipe.safety_checker = None  # run below, so a flagged image is blurred, not blacked out
        try:
            with torch.inference_mode():
                image = pipe(**kwargs).images[0].convert("RGB")
            flagged = checker is not None and self._flagged(pipe, checker, image)
        except (JobCancelled, PainterError):
            raise
        except Exception as err:
            if _is_out_of_memory(err):
                gc.collect()
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                raise PainterError(f'Not enough memory to paint {paint_w}x{paint_h} with '
                                   f'"{self.model}". Lower images.width/height, pick a smaller '
                                   "model, or use --painter procedural.") from err
            raise PainterError(f'The diffusers painter failed with "{self.model}" '
                               f"({type(err).__name__}: {err}).") from err
        finally:
            if checker is not None:
                pipe.safety_checker = checker
        if image.size != (width, height):
            image = image.resize((width, height), Image.LANCZOS)
        if flagged:
            image = blurred_placeholder(image)
            image.info["dreamreel_flagged"] = "1"  # readable by whoever holds the image
        return image, flagged

    @staticmethod
    def _flagged(pipe: Any, checker: Any, image: Image.Image) -> bool:
        """Run the pipeline's safety checker on one picture; True if it flags it."""
        import numpy as np  # noqa: PLC0415
        import torch  # noqa: PLC0415

        extractor = getattr(pipe, "feature_extractor", None)
        if extractor is None:
            raise PainterError('The model\'s safety checker has no feature extractor: set '
                               'images.content_filter = "off" or use another model.')
        weight = next(checker.parameters())
        pixels = extractor(images=[image], return_tensors="pt").pixel_values
        array = np.asarray(image, dtype=np.float32)[None] / 255.0
        with torch.inference_mode():
            _, flags = checker(images=array.copy(), clip_input=pixels.to(weight.device, weight.dtype))
        return bool(flags is not None and len(flags) and flags[0])


__all__ = ["DiffusersPainter", "LikenessOptions", "RECOMMENDED", "blurred_placeholder",
           "is_one_step_model", "resolve_model_folder"]
