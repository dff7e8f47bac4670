"""Crash-safe file writing: temp file, fsync, os.replace, fsync the folder.

Used by saves, the image cache, the user config and world imports: the one place that writes a
file so that a crash never leaves half of it. A failure (full disk, read-only folder) leaves the
previous file untouched and raises OSError for the caller to turn into its own error.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"   # temp files are ".<name>.<random>.tmp" beside the file they replace


def fsync_dir(folder: Path) -> None:
    """Make a rename inside folder durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def is_temp_file(name: str) -> bool:
    """True for the name of a temp file write_atomic makes, so a folder's owner can clear the
    ones a crash left behind (they are never the file itself: they start with a dot)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def write_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace path with data so that readers see either the old or the new file, never half.

    Args:
        path: the file to replace; its folder must exist.
        data: the new content.
        durable: fsync the file and its folder, so the new content survives a power cut. False
            still never shows a half-written file, but a crash may bring the old one back:
            enough for files that can be made again.

    Raises:
        OSError: the file could not be written; the temp file is removed and path is unchanged.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        fsync_dir(path.parent)
