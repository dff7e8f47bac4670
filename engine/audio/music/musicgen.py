"""The MusicGen composer: any MusicGen checkpoint through transformers, by hub id or folder.

The prompt is the world's music.j2 rendered for the scene (engine.audio.music.tracks), the seed
makes a clip repeatable, and generation runs on the device engine.compute picks (CUDA, MPS or
the CPU) in half precision on a GPU. MusicGen writes a little more than the loop lasts; the
extra tail is crossfaded over the head, so the clip loops without a seam, and it is resampled
(periodically, by FFT, which is exact for a loop) to stereo 44100 Hz and levelled like the
procedural score. Play never downloads: a hub id must already be in the local cache
(`dreamreel models pull`). torch and transformers are imported only when the model loads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.audio.clips import Clip, clip_key
from engine.audio.music import MusicRequest
from engine.audio.music.procedural import RATE, master
from engine.compute import torch_device, torch_dtype, torch_threads
from engine.errors import AudioError
from engine.hf_hub import pull_advice

MAX_SECONDS = 28.0      # MusicGen's context holds 30 s; the loop plus its crossfade fit in it
CROSSFADE_SECONDS = 1.5  # the tail laid over the head to close the loop
LEVEL_DB = -18.0        # loudness (RMS dBFS) of the finished clip


def make_loop(samples: np.ndarray, fade: int) -> np.ndarray:
    """A seamless loop from (frames, channels) samples: the last `fade` frames are crossfaded
    (equal power) over the first ones, so the loop's last sample leads into its first."""
    fade = max(0, min(int(fade), len(samples) // 2))
    if fade == 0:
        return samples
    body = samples[: len(samples) - fade].copy()
    tail = samples[len(samples) - fade:]
    rise = np.sin(np.linspace(0.0, np.pi / 2, fade, endpoint=False))[:, None]
    body[:fade] = body[:fade] * rise + tail * np.cos(np.linspace(0.0, np.pi / 2, fade,
                                                                 endpoint=False))[:, None]
    return body


def resample_loop(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """A loop (frames, channels) at another sample rate, by FFT: exact for periodic signals."""
    if rate == target:
        return samples
    count = max(1, round(len(samples) * target / rate))
    spectrum = np.fft.rfft(samples, axis=0)
    keep = min(len(spectrum), count // 2 + 1)
    out = np.zeros((count // 2 + 1, samples.shape[1]), dtype=np.complex128)
    out[:keep] = spectrum[:keep]
    return np.fft.irfft(out, n=count, axis=0) * (count / len(samples))


class MusicgenComposer:
    """MusicGen (facebook/musicgen-small and kin) through transformers, loaded on first use."""

    id = "musicgen"

    def __init__(self, model: str, *, device: str = "auto", dtype: str = "auto",
                 guidance_scale: float = 3.0):
        self.model = model
        self.device_request, self.dtype_request = device, dtype
        self.guidance_scale = float(guidance_scale)
        self._lock = threading.RLock()   # one model, possibly several worker threads
        self._loaded = None

    def cache_key(self, request: MusicRequest) -> str:
        """The clip's key: the model, the prompt, the seed, the length and the guidance."""
        return clip_key("music", self.id, self.model, request.text_prompt(), request.seed,
                        seconds=round(self.loop_seconds(request), 3),
                        guidance=self.guidance_scale, rate=RATE)

    @staticmethod
    def loop_seconds(request: MusicRequest) -> float:
        """How long the loop will be: the request's length, within what MusicGen can make."""
        return float(min(MAX_SECONDS, max(2.0, request.seconds)))

    def _folder(self) -> str:
        path = Path(self.model).expanduser()
        if path.is_dir():
            if not (path / "config.json").is_file():
                raise AudioError(f'"{self.model}" is not a MusicGen model folder (no '
                                 "config.json). Save one with save_pretrained().")
            return str(path)
        if "/" not in self.model or self.model.startswith((".", "/", "~")):
            raise AudioError(f'Music model folder "{self.model}" does not exist. Use '
                             '[audio] music = "musicgen:<hub id or folder>", or "procedural".')
        from huggingface_hub import snapshot_download  # noqa: PLC0415

        try:
            return snapshot_download(self.model, local_files_only=True)
        except Exception as err:  # not in the cache (LocalEntryNotFoundError), bad id
            raise AudioError(f'Music model "{self.model}" is not in the local Hugging Face '
                             f"cache, and models are never downloaded during play: "
                             f'{pull_advice(self.model)}, or set [audio] music = '
                             '"procedural".') from err

    def _load(self):
        with self._lock:
            if self._loaded is not None:
                return self._loaded
            try:
                import torch  # noqa: PLC0415
                from transformers import (AutoProcessor,  # noqa: PLC0415
                                          MusicgenForConditionalGeneration)
            except ImportError as err:
                raise AudioError(f"The MusicGen composer is not available ({err}). Install "
                                 'the model extras with `pip install "dreamreel[ml]"`, or set '
                                 '[audio] music = "procedural".') from err
            folder = self._folder()
            device = torch_device(self.device_request)
            dtype = torch_dtype(device, self.dtype_request, bf16=False)
            if device == "cpu":
                torch.set_num_threads(torch_threads())
            try:
                processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
                model = MusicgenForConditionalGeneration.from_pretrained(
                    folder, local_files_only=True, dtype=dtype).to(device).eval()
            except (OSError, ValueError, KeyError) as err:
                raise AudioError(f'Could not load the music model "{self.model}": {err}') from err
            self._loaded = (torch, processor, model, device)
            return self._loaded

    def compose(self, request: MusicRequest,
                on_progress: Callable[[float], None] | None = None) -> Clip:
        """Generate the request's loop; on_progress is called every few generated frames."""
        torch, processor, model, device = self._load()
        audio_config = model.config.audio_encoder
        rate = int(audio_config.sampling_rate)
        frame_rate = float(getattr(audio_config, "frame_rate", 0) or rate / np.prod(
            audio_config.upsampling_ratios))
        seconds = self.loop_seconds(request)
        steps = int(np.ceil((seconds + CROSSFADE_SECONDS) * frame_rate)) + \
            int(model.config.decoder.num_codebooks)
        inputs = processor(text=[request.text_prompt()], padding=True, return_tensors="pt")
        inputs = {k: v.to(device) for k, v in inputs.items()}
        from transformers import StoppingCriteria, StoppingCriteriaList  # noqa: PLC0415

        class Progress(StoppingCriteria):
            """Reports the share of frames generated; never stops generation itself."""

            def __init__(self):
                self.step = 0

            def __call__(self, input_ids, scores, **kwargs):
                self.step += 1
                if on_progress is not None and self.step % 8 == 0:
                    on_progress(min(0.95, self.step / steps))
                return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

        with self._lock:
            torch.manual_seed(int(request.seed) & 0xFFFFFFFF)
            try:
                with torch.inference_mode():
                    audio = model.generate(**inputs, do_sample=True, max_new_tokens=steps,
                                           min_new_tokens=steps,
                                           guidance_scale=self.guidance_scale or None,
                                           stopping_criteria=StoppingCriteriaList([Progress()]))
            except RuntimeError as err:
                raise AudioError(f'The music model "{self.model}" failed: {err}') from err
        samples = audio[0].float().cpu().numpy().T.astype(np.float64)   # (frames, channels)
        samples = np.nan_to_num(samples)
        if samples.shape[1] == 1:
            samples = np.repeat(samples, 2, axis=1)
        loop = make_loop(samples[: int(round((seconds + CROSSFADE_SECONDS) * rate))],
                         int(CROSSFADE_SECONDS * rate))
        loop = resample_loop(loop, rate, RATE).T.astype(np.float32)
        mixed = master(np.ascontiguousarray(loop), LEVEL_DB).T.copy()
        if on_progress is not None:
            on_progress(1.0)
        return Clip(mixed, RATE)


__all__ = ["MusicgenComposer", "make_loop", "resample_loop"]
