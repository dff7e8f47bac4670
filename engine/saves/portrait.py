"""The player's portrait: a picture file checked like world pictures and kept in the slot.

A portrait comes from the player's own disk (`--portrait FILE`, the "Who are you?" screen).
It is checked as world pictures are (engine.worlds.pictures: type, file size, pixel bomb,
without decoding first), decoded, made small (PORTRAIT_SIZE), saved as PNG into the story's
slot folder as `portrait-<sha256>.png`, and named in the play state by that hash. It is read
back only through load_portrait, which checks it again (saves are untrusted) and that the
content matches its name. It never leaves the machine: no narrator or painter that talks to a
server is given it. No Session here: engine.session.core decides when to call these.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

from engine.atomic import write_atomic
from engine.errors import SaveError
from engine.story.persona import PORTRAIT_DIGEST

PORTRAIT_SIZE = 512            # the longer side of a kept portrait, in pixels
PORTRAIT_PREFIX = "portrait-"


def portrait_file(folder: Path, digest: str) -> Path:
    """Where a slot keeps the portrait of this hash (the hash is checked: no path escapes)."""
    if not PORTRAIT_DIGEST.fullmatch(digest):
        raise SaveError(f"'{digest[:80]}' does not name a portrait.")
    return folder / f"{PORTRAIT_PREFIX}{digest}.png"


def read_portrait(path: Path) -> tuple[str, bytes]:
    """Check and shrink a portrait picture the player chose.

    Returns:
        (sha256 hex of the PNG, the PNG bytes): the portrait as a slot keeps it.

    Raises:
        SaveError: naming the file and what is wrong with it (missing, too large, not a PNG,
            JPEG or WebP picture, damaged, a decompression bomb), and that the story goes on
            without it.
    """
    from PIL import Image

    from engine.worlds.pictures import IMAGE_FORMATS, check_image

    path = Path(os.path.expanduser(str(path)))
    try:
        resolved = path.resolve()
        folder, name = resolved.parent, resolved.name
    except OSError as err:
        raise SaveError(f"Portrait {path}: cannot be read ({err}).") from None
    problem = check_image(folder, name) if name else None
    if not name:
        raise SaveError(f"Portrait {path}: not a file; the story goes on without a portrait.")
    if problem is not None:
        hint = f" ({problem.hint})" if problem.hint else ""
        raise SaveError(f"Portrait {path}: {problem.message}{hint}; the story goes on "
                        f"without a portrait.")
    try:
        with Image.open(folder / name, formats=list(IMAGE_FORMATS)) as image:
            image.load()
            image = image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise SaveError(f"Portrait {path}: is damaged or unreadable ({err}); the story goes on "
                        f"without a portrait.") from None
    image.thumbnail((PORTRAIT_SIZE, PORTRAIT_SIZE))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    data = out.getvalue()
    return hashlib.sha256(data).hexdigest(), data


def keep_portrait(folder: Path, digest: str, data: bytes) -> Path:
    """Write a checked portrait into a slot folder (atomically; kept if already there)."""
    target = portrait_file(folder, digest)
    if not target.is_file():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomic(target, data)
        except OSError as err:
            raise SaveError(f"Could not keep the portrait in {folder}: {err.strerror or err}."
                            ) from None
    return target


def load_portrait(folder: Path, digest: str):
    """A slot's portrait as a PIL image, checked again; None when it is missing or does not
    match its hash. Raises SaveError for a damaged or refused file."""
    from PIL import Image

    from engine.worlds.pictures import IMAGE_FORMATS, check_image

    path = portrait_file(folder, digest)
    if not path.is_file():
        return None
    problem = check_image(folder, path.name)
    if problem is not None:
        raise SaveError(f"Portrait {path}: {problem.message}.")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        return None
    try:
        with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
            image.load()
            return image.convert("RGB")
    except (OSError, ValueError) as err:
        raise SaveError(f"Portrait {path}: is damaged ({err}).") from None


__all__ = ["read_portrait", "keep_portrait", "load_portrait", "portrait_file", "PORTRAIT_SIZE"]
