"""Content-addressed cache of painted images: one file per key, verified on read, LRU by size.

A key is the sha256 of everything that determines a picture (painter id, model, prompt, negative
prompt, seed, size, steps), so saves store keys, never paths. Each file holds raw pixels behind a
header with its own key, the shape and a CRC-32 of the pixels (a cache hit is a read and a copy,
no decoding); a file that is truncated, corrupted or holds another key's picture is deleted and
reported as a miss, so the caller simply paints it again. Only the header is read before the
file's size is checked against it, so a damaged file of any size costs a few hundred bytes of
memory, never its whole length.

Files live at root/<first two hex digits>/<key>.img and are written atomically
(engine.atomic.write_atomic: temp file in the same folder, fsync, os.replace). Reads touch the file's mtime; when the cache grows past
max_bytes the least recently used files go first. This module never paints and never imports
a model; disk errors become PainterError with a message a player can act on.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import threading
import time
from pathlib import Path

import zlib

from PIL import Image

from engine.atomic import is_temp_file, write_atomic
from engine.errors import PainterError

KEY_PATTERN = re.compile(r"[0-9a-f]{64}")
FORMAT_VERSION = 2  # part of every key: bump it to invalidate all cached images at once
SUFFIX = ".img"
STALE_TEMP_SECONDS = 3600  # temp files older than this are leftovers of a crash
OLD_TEMP_PREFIX = ".tmp-"  # how temp files were named before write_atomic wrote the cache


def cache_key(painter_id: str, model: str, prompt: str, negative_prompt: str | None, seed: int,
              size: tuple[int, int], steps: int) -> str:
    """The cache key of one picture: sha256 hex of a canonical JSON of what determines it.

    None and "" as negative prompt are the same picture, so they give the same key.
    """
    width, height = (int(v) for v in size)
    record = {
        "v": FORMAT_VERSION,
        "painter": str(painter_id),
        "model": str(model),
        "prompt": str(prompt),
        "negative_prompt": negative_prompt or "",
        "seed": int(seed),
        "size": [width, height],
        "steps": int(steps),
    }
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


MAGIC = b"DRIMG1\n"   # a cache file: MAGIC, one JSON header line, then the raw pixels
CHANNELS = {"RGB": 3, "RGBA": 4, "L": 1}
MAX_HEADER = 512
MAX_SIDE = 4096        # the largest picture side the config allows (engine.config ImageSettings)


def encode(key: str, image: Image.Image) -> bytes:
    """A cache file: raw pixels (decoding is a copy, a few ms at 1280x720, where a PNG takes
    tens of ms) behind a header with the key, the shape and a CRC-32 of the pixels."""
    raw = image.tobytes()
    header = json.dumps({"key": key, "mode": image.mode, "w": image.width, "h": image.height,
                         "crc": zlib.crc32(raw)}, separators=(",", ":")).encode()
    return MAGIC + header + b"\n" + raw


def read_header(head: bytes, key: str) -> tuple[dict, int] | None:
    """A cache file's header (from its first bytes) and the file's whole expected size; None
    when it is not a cache file, names another key or describes an impossible picture."""
    if not head.startswith(MAGIC):
        return None
    end = head.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER)
    if end < 0:
        return None
    try:
        header = json.loads(head[len(MAGIC):end])
        mode, width, height = header["mode"], int(header["w"]), int(header["h"])
        expected = width * height * CHANNELS[mode]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if header.get("key") != key or not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        return None
    return header, end + 1 + expected


def decode(data: bytes, key: str) -> Image.Image | None:
    """The picture in a cache file, or None when it is damaged or holds another key's picture."""
    found = read_header(data[:len(MAGIC) + MAX_HEADER], key)
    if found is None or len(data) != found[1]:
        return None
    header, size = found
    start = data.index(b"\n", len(MAGIC)) + 1
    raw = memoryview(data)[start:]
    if zlib.crc32(raw) != header.get("crc"):
        return None
    return Image.frombytes(header["mode"], (int(header["w"]), int(header["h"])), bytes(raw))


class ImageCache:
    """A folder of verified pictures addressed by cache_key(); safe for one writer and many readers."""

    def __init__(self, root: Path, max_bytes: int = 2 * 1024**3) -> None:
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self._lock = threading.RLock()
        self._total: int | None = None  # bytes of pictures on disk; scanned lazily, then kept up to date
        self._last_stamp = 0

    # ------------------------------------------------------------------ paths and keys

    def path_for(self, key: str) -> Path:
        """Where key's file lives (whether or not it exists). Raises PainterError for a bad key."""
        if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
            raise PainterError(f"Invalid image cache key {key!r}: expected 64 lowercase hex characters "
                               "(a sha256 from cache_key). The save or caller that supplied it is damaged.")
        return self.root / key[:2] / f"{key}{SUFFIX}"

    def contains(self, key: str) -> bool:
        """Whether a file is stored for key (not verified: get() may still find it corrupt)."""
        return self.path_for(key).is_file()

    # ------------------------------------------------------------------ reading

    def get(self, key: str) -> Image.Image | None:
        """The cached picture for key, or None on a miss.

        A file that cannot be decoded, or whose embedded key or pixel hash does not match, is
        deleted and reported as a miss. A hit counts as a use for LRU eviction.
        """
        path = self.path_for(key)
        with self._lock:
            try:
                data, size = self._read_checked(path, key)
            except FileNotFoundError:
                return None
            except OSError:
                return None  # unreadable (permissions, I/O error): treat as a miss, paint again
            image = self._verified(data, key) if data is not None else None
            if image is None:
                self._discard(path, size)
                return None
            self._touch(path)
            return image

    @staticmethod
    def _read_checked(path: Path, key: str) -> tuple[bytes | None, int]:
        """(the file's bytes, its size), reading the header first: a file whose size does not
        match what its header describes is not read any further ((None, size))."""
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(len(MAGIC) + MAX_HEADER)
            found = read_header(head, key)
            if found is None or found[1] != size:
                return None, size
            return head + handle.read(size - len(head) + 1), size

    @staticmethod
    def _verified(data: bytes, key: str) -> Image.Image | None:
        return decode(data, key)

    # ------------------------------------------------------------------ writing

    def put(self, key: str, image: Image.Image) -> Path:
        """Store image under key atomically, evicting least recently used files if over max_bytes.

        Returns the file's path. Raises PainterError if the folder cannot be written (disk full,
        read-only, no permission), naming the folder and what to do.
        """
        path = self.path_for(key)
        if image.mode not in CHANNELS:
            image = image.convert("RGB")
        data = encode(key, image)
        with self._lock:
            total = self._known_total()
            old = path.stat().st_size if path.is_file() else 0
            self._write_atomically(path, data)
            self._touch(path)
            self._total = total - old + len(data)
            if self._total > self.max_bytes:
                self._evict(keep=path)
        return path

    def _write_atomically(self, path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
        except OSError as err:
            raise PainterError(self._write_error(err)) from err

    def _write_error(self, err: OSError) -> str:
        reason = err.strerror or str(err)
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            advice = "Free some disk space, or lower the image cache size or move it to another disk."
        elif err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            advice = "Make the folder writable, or point the image cache at a writable folder."
        else:
            advice = "Check the disk, or point the image cache at another folder."
        return f"Cannot save an image in the image cache folder {self.root}: {reason}. {advice}"

    # ------------------------------------------------------------------ size and eviction

    def size_bytes(self) -> int:
        """Total bytes of the pictures in the cache (scans the folder, so it is always current)."""
        with self._lock:
            self._total = sum(size for _, size, _ in self._entries())
            return self._total

    def _known_total(self) -> int:
        if self._total is None:
            self._total = sum(size for _, size, _ in self._entries())
        return self._total

    def _entries(self) -> list[tuple[Path, int, int]]:
        """(path, size, mtime_ns) of every cached picture; also clears temp files left by a crash."""
        found = []
        if not self.root.is_dir():
            return found
        now = time.time()
        for folder in self.root.iterdir():
            if not (folder.is_dir() and len(folder.name) == 2):
                continue
            for entry in os.scandir(folder):
                try:
                    stat = entry.stat()
                except OSError:
                    continue
                if is_temp_file(entry.name) or entry.name.startswith(OLD_TEMP_PREFIX):
                    if now - stat.st_mtime > STALE_TEMP_SECONDS:
                        self._unlink(Path(entry.path))
                elif entry.name.endswith(SUFFIX) and KEY_PATTERN.fullmatch(entry.name[:-len(SUFFIX)]):
                    found.append((Path(entry.path), stat.st_size, stat.st_mtime_ns))
        return found

    def _evict(self, keep: Path) -> None:
        """Delete least recently used files until the cache fits max_bytes (never `keep`)."""
        entries = sorted(self._entries(), key=lambda e: e[2])
        total = sum(size for _, size, _ in entries)
        for path, size, _ in entries:
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            if self._unlink(path):
                total -= size
        self._total = total

    def _discard(self, path: Path, size: int) -> None:
        if self._unlink(path) and self._total is not None:
            self._total = max(0, self._total - size)

    @staticmethod
    def _unlink(path: Path) -> bool:
        try:
            path.unlink()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            return False  # read-only cache: leave it, a later put will report the problem

    def _touch(self, path: Path) -> None:
        """Mark a use: a strictly increasing mtime, so LRU order holds even on coarse clocks."""
        stamp = max(time.time_ns(), self._last_stamp + 1)
        self._last_stamp = stamp
        try:
            os.utime(path, ns=(stamp, stamp))
        except OSError:
            pass  # read-only: LRU order just goes stale
