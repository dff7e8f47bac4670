"""Sound clips and their content-addressed disk cache: one 16-bit WAV file per key, LRU by size.

A clip is mono or stereo float32 samples in -1..1 at a sample rate. A key is the sha256 of
everything that determines a clip (what made it, its model, its text or prompt, its seed...), so
a saved story stores keys, never paths, and a scene's music and voice come back at once on
rollback. Files live at root/<first two hex digits>/<key>.wav and are written atomically
(engine.atomic.write_atomic); a file that does not read back as a WAV is deleted and reported as
a miss, so the caller simply makes the clip again. Reads touch the file's mtime; when the cache
grows past max_bytes the least recently used files go first. This module never plays and never
imports a model or pygame; disk errors become AudioError with a message a player can act on.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.atomic import is_temp_file, write_atomic
from engine.errors import AudioError

KEY_PATTERN = re.compile(r"[0-9a-f]{64}")
FORMAT_VERSION = 1      # part of every key: bump it to invalidate every cached clip at once
SUFFIX = ".wav"


@dataclass(frozen=True)
class Clip:
    """Sound: float32 samples in -1..1, shape (frames,) for mono or (frames, 2) for stereo."""

    samples: np.ndarray
    rate: int

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else int(self.samples.shape[1])

    @property
    def seconds(self) -> float:
        return len(self.samples) / float(self.rate)

    def wav_bytes(self) -> bytes:
        """The clip as a 16-bit PCM WAV file."""
        pcm = np.clip(np.asarray(self.samples, np.float32), -1.0, 1.0)
        pcm = (pcm * 32767.0).round().astype("<i2")
        out = io.BytesIO()
        with wave.open(out, "wb") as handle:
            handle.setnchannels(self.channels)
            handle.setsampwidth(2)
            handle.setframerate(int(self.rate))
            handle.writeframes(pcm.tobytes())
        return out.getvalue()

    @classmethod
    def from_wav(cls, source: bytes | str | Path) -> "Clip":
        """A clip read from 16-bit (or 8/24/32-bit) PCM WAV bytes or a file path.

        Raises:
            ValueError: not a PCM WAV file this reader understands."""
        handle_source = io.BytesIO(source) if isinstance(source, bytes) else str(source)
        try:
            with wave.open(handle_source, "rb") as handle:
                channels, width = handle.getnchannels(), handle.getsampwidth()
                rate, frames = handle.getframerate(), handle.readframes(handle.getnframes())
        except (wave.Error, EOFError) as err:
            raise ValueError(f"not a PCM WAV file ({err})") from None
        if width == 1:
            data = (np.frombuffer(frames, np.uint8).astype(np.float32) - 128.0) / 128.0
        elif width == 2:
            data = np.maximum(np.frombuffer(frames, "<i2").astype(np.float32) / 32767.0, -1.0)
        elif width == 3:
            raw = np.frombuffer(frames, np.uint8).reshape(-1, 3).astype(np.int32)
            value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
            data = (np.where(value >= 1 << 23, value - (1 << 24), value) / float(1 << 23)).astype(
                np.float32)
        elif width == 4:
            data = np.frombuffer(frames, "<i4").astype(np.float32) / float(1 << 31)
        else:
            raise ValueError(f"{width * 8}-bit samples are not supported")
        if channels > 1:
            data = data[: len(data) - len(data) % channels].reshape(-1, channels)
        return cls(np.ascontiguousarray(data), rate)


def clip_key(kind: str, maker: str, model: str, text: str, seed: int = 0, **more) -> str:
    """The cache key of one clip: sha256 hex of a canonical JSON of what determines it.

    Args:
        kind: "music" or "voice" (two clips of the same text but another kind never collide).
        maker: the backend's id ("procedural", "musicgen", "espeak", "transformers").
        model: the model or voice it used ("" for the embedded ones).
        text: the prompt (music) or the words spoken (voice).
        seed: the seed, where the maker has one.
        more: anything else that changes the sound (mood, voice, speed, seconds...), as JSON values.
    """
    record = {"v": FORMAT_VERSION, "kind": str(kind), "maker": str(maker), "model": str(model),
              "text": str(text), "seed": int(seed), "more": more}
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


class ClipCache:
    """Clips on disk by key. Thread-safe; a damaged file is a miss, never an error."""

    def __init__(self, root: Path, max_bytes: int = 512 << 20):
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()
        self._size: int | None = None

    def path(self, key: str) -> Path:
        """Where the clip with `key` lives (whether or not it is there)."""
        if not KEY_PATTERN.fullmatch(key):
            raise ValueError(f"not a clip key: {key!r}")
        return self.root / key[:2] / (key + SUFFIX)

    def __contains__(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> Clip | None:
        """The cached clip, or None when it is missing or damaged (a damaged file is deleted)."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            clip = Clip.from_wav(data)
        except ValueError:
            self._discard(path)
            return None
        try:
            os.utime(path)
        except OSError:
            pass
        return clip

    def get_path(self, key: str) -> Path | None:
        """The cached clip's file, for a player that reads it from disk; None if missing. Only
        its header is read (a music loop is megabytes): one that is not a PCM WAV, or promises
        more sound than the file holds, is deleted and is a miss."""
        path = self.path(key)
        try:
            size = path.stat().st_size
            with wave.open(str(path), "rb") as handle:
                promised = handle.getnframes() * handle.getnchannels() * handle.getsampwidth()
        except FileNotFoundError:
            return None
        except (OSError, wave.Error, EOFError):
            self._discard(path)
            return None
        if promised == 0 or promised > size:
            self._discard(path)
            return None
        try:
            os.utime(path)
        except OSError:
            pass
        return path

    def put(self, key: str, clip: Clip) -> Path:
        """Store `clip` under `key` (atomically) and trim the cache. Returns its file.

        Raises:
            AudioError: the disk refused (full, read-only): names the folder and what to do."""
        path = self.path(key)
        data = clip.wav_bytes()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data, durable=False)
        except OSError as err:
            raise AudioError(f"Could not write a sound clip to {path.parent}: "
                             f"{err.strerror or err}. Free some disk space or set "
                             f"[audio] music/voice to \"none\".") from None
        with self._lock:
            if self._size is not None:
                self._size += len(data)
        self._trim()
        return path

    def _discard(self, path: Path) -> None:
        try:
            size = path.stat().st_size
            path.unlink()
        except OSError:
            return
        with self._lock:
            if self._size is not None:
                self._size -= size

    def _files(self) -> list[tuple[float, int, Path]]:
        found = []
        if not self.root.is_dir():
            return found
        now = time.time()
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            for file in folder.iterdir():
                try:
                    stat = file.stat()
                except OSError:
                    continue
                if is_temp_file(file.name):
                    if now - stat.st_mtime > 3600:
                        self._discard(file)
                    continue
                if file.suffix == SUFFIX:
                    found.append((stat.st_mtime, stat.st_size, file))
        return found

    def _trim(self) -> None:
        with self._lock:
            if self._size is not None and self._size <= self.max_bytes:
                return
        files = sorted(self._files())
        total = sum(size for _, size, _ in files)
        for _, size, file in files:
            if total <= self.max_bytes:
                break
            try:
                file.unlink()
                total -= size
            except OSError:
                pass
        with self._lock:
            self._size = total
