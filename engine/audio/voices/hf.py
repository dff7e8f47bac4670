"""The `transformers` voice: any text-to-speech model transformers' pipeline loads, by hub id or folder.

`[audio] voice = "transformers:facebook/mms-tts-eng"` (or a folder) reads the narration with a
real model: VITS / MMS-TTS (one model per language, about 150 MB, fast on a CPU), SpeechT5
(with its HiFi-GAN vocoder) or Bark (slow, wants a GPU). The pipeline is loaded by the first
speak(), on the worker thread that runs it, once, and kept; one clip is made at a time.

What a voice name means depends on the model:
- VITS with several speakers: the speaker's number ("0", "1", ...); "" is speaker 0.
- SpeechT5: a .npy file of a 512-number speaker embedding (an x-vector); required, since the
  model has no voice of its own.
- Anything else has one voice, and the name must be "".
Speed scales VITS's speaking rate; other models speak at their own pace. Sampling is seeded
(VITS draws noise), so the same text gives the same clip.

Weights: a folder is used as it is; a hub id is taken from the local Hugging Face cache, never
the network (`dreamreel models pull ID` downloads). Errors are AudioErrors that say what to do.
torch and transformers are imported only when the model loads.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from engine.audio.clips import Clip
from engine.compute import torch_device, torch_dtype, torch_threads
from engine.errors import AudioError
from engine.hf_hub import pull_advice

VOCODER_ID = "microsoft/speecht5_hifigan"   # what SpeechT5 speaks through, unless the folder has one
ADVICE = 'or set [audio] voice = "espeak"'


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:240]


def _local_folder(model: str, what: str) -> str:
    """A folder holding model: the folder itself, or the hub id's snapshot in the local cache."""
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path)
    if model.startswith(("/", "./", "../", "~", "\\")) or model.count("/") != 1:
        raise AudioError(f'No {what} folder at "{model}". Check the path (a folder with '
                         f"config.json and the weights), {ADVICE}.")
    try:
        from huggingface_hub import snapshot_download  # noqa: PLC0415
        return snapshot_download(model, local_files_only=True)
    except Exception as err:  # LocalEntryNotFoundError, HFValidationError, ImportError
        raise AudioError(f'{what[:1].upper()}{what[1:]} "{model}" is not in the local Hugging '
                         f"Face cache, and models are never downloaded during play: "
                         f"{pull_advice(model)}, {ADVICE}.") from err


class TransformersVoice:
    """Speaks with a transformers text-to-speech pipeline; see the module docstring.

    Attributes:
        id: "transformers".
        model: the hub id or folder, as given (part of every clip key).
        default_voice: "" (each model's own default).
        speed: speaking-rate factor (VITS only).
        seed: the seed of every clip.
    """

    id = "transformers"
    default_voice = ""
    speaks = True

    def __init__(self, model: str, speed: float = 1.0, seed: int = 0, device: str = "auto",
                 dtype: str = "auto"):
        self.model = model
        self.speed = float(speed)
        if not self.speed > 0:
            raise AudioError(f"Voice speed must be above 0, not {speed}.")
        self.seed = int(seed)
        self._device_request, self._dtype_request = device, dtype
        self._lock = threading.Lock()
        self._pipe = None
        self._embeddings: dict[str, object] = {}

    def load(self) -> None:
        """Load the pipeline now (the first speak() does it otherwise).

        Raises:
            AudioError: transformers is not installed, the model is not downloaded, or it is
                no text-to-speech model.
        """
        with self._lock:
            self._load()

    def unload(self) -> None:
        """Free the model."""
        with self._lock:
            self._pipe = None
            self._embeddings.clear()

    def _load(self):
        if self._pipe is not None:
            return self._pipe
        try:
            import torch  # noqa: PLC0415
            from transformers import pipeline  # noqa: PLC0415
        except ImportError as err:
            raise AudioError(f"The transformers voice needs torch and transformers ({err}). "
                             f'Install them with `pip install "dreamreel[ml]"`, {ADVICE}.') from None
        folder = _local_folder(self.model, "voice model")
        device = torch_device(self._device_request)
        try:
            dtype = torch_dtype(device, self._dtype_request, bf16=False)
        except ValueError as err:
            raise AudioError(str(err)) from None
        torch.set_num_threads(torch_threads())
        options: dict = {}   # the folder is local: nothing below reaches the network
        try:
            from transformers import AutoConfig  # noqa: PLC0415
            kind = AutoConfig.from_pretrained(folder, local_files_only=True).model_type
            if kind == "speecht5":
                options["vocoder"] = self._vocoder(folder, device)
            pipe = pipeline("text-to-speech", model=folder, device=device, dtype=dtype, **options)
        except AudioError:
            raise
        except Exception as err:  # OSError, ValueError, KeyError: not a TTS model, bad files
            raise AudioError(f'Cannot load voice model "{self.model}" as text to speech: '
                             f"{_first_line(err)}. Use a VITS (facebook/mms-tts-*), SpeechT5 or "
                             f"Bark model, {ADVICE}.") from None
        self._pipe = pipe
        return pipe

    def _vocoder(self, folder: str, device: str):
        from transformers import SpeechT5HifiGan  # noqa: PLC0415
        local = Path(folder) / "vocoder"
        source = str(local) if (local / "config.json").is_file() else _local_folder(
            VOCODER_ID, "SpeechT5's vocoder")
        return SpeechT5HifiGan.from_pretrained(source, local_files_only=True).to(device)

    def speak(self, text: str, voice: str = "") -> Clip:
        """text spoken in voice (see the module docstring), mono at the model's rate.

        Raises:
            AudioError: the model cannot load, the voice does not fit the model, or the
                model failed.
        """
        with self._lock:
            pipe = self._load()     # AudioError here when torch or transformers is missing
            import torch  # noqa: PLC0415
            if not text.strip():
                return Clip(np.zeros(0, np.float32), int(pipe.sampling_rate or 16000))
            params = self._forward_params(pipe, voice.strip())
            model = pipe.model
            if hasattr(model, "speaking_rate"):
                model.speaking_rate = self.speed
            devices = [torch.device(pipe.device).index or 0] \
                if str(pipe.device).startswith("cuda") else []
            try:
                with torch.random.fork_rng(devices=devices):
                    torch.manual_seed(self.seed)
                    output = pipe(text, forward_params=params) if params else pipe(text)
            except Exception as err:
                raise AudioError(f'Voice model "{self.model}" failed to speak: '
                                 f"{_first_line(err)}.") from None
        samples = np.asarray(output["audio"], np.float32).squeeze()
        if samples.ndim > 1:   # (channels, frames) from some models: mix down to mono
            samples = samples.mean(axis=0)
        peak = float(np.abs(samples).max()) if samples.size else 0.0
        if peak > 1.0:
            samples = samples / peak
        return Clip(np.ascontiguousarray(samples), int(output["sampling_rate"]))

    def _forward_params(self, pipe, voice: str) -> dict:
        config = pipe.model.config
        kind = config.model_type
        if kind == "vits" and getattr(config, "num_speakers", 1) > 1:
            if not voice:
                return {"speaker_id": 0}
            if not voice.isdigit() or int(voice) >= config.num_speakers:
                raise AudioError(f'Voice model "{self.model}" has speakers 0 to '
                                 f'{config.num_speakers - 1}; "{voice}" is not one of them.')
            return {"speaker_id": int(voice)}
        if kind == "speecht5":
            return {"speaker_embeddings": self._speaker_embedding(voice, pipe.device)}
        if voice:
            raise AudioError(f'Voice model "{self.model}" has one voice; it cannot speak as '
                             f'"{voice}". Leave the voice empty, or give the character an espeak '
                             f"voice with [audio] voice = \"espeak\".")
        return {}

    def _speaker_embedding(self, voice: str, device):
        import torch  # noqa: PLC0415

        if not voice:
            raise AudioError(f'SpeechT5 ("{self.model}") needs a speaker: set the voice to a '
                             f".npy file holding a 512-number speaker embedding (x-vector).")
        if voice not in self._embeddings:
            try:
                vector = np.load(Path(voice).expanduser(), allow_pickle=False)
            except (OSError, ValueError) as err:
                raise AudioError(f'Cannot read the speaker embedding "{voice}": '
                                 f"{_first_line(err)}.") from None
            vector = np.asarray(vector, np.float32).reshape(1, -1)
            self._embeddings[voice] = torch.from_numpy(vector).to(device)
        return self._embeddings[voice]
