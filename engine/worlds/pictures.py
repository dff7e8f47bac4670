"""Hand-made pictures that worlds ship: checked before anything decodes them.

A world from a stranger may hold a "decompression bomb" (a small file that claims, say, 50,000 x
50,000 pixels and would take gigabytes of memory to decode), a link that leaves the world folder,
a huge file, or a file in an exotic format whose decoder has a larger attack surface. Every
picture is therefore checked here by its header alone: size on disk, format (PNG, JPEG, WebP
only) and pixel count, before any pixel is decoded. This module reads image headers and, in
open_world_image / load_world_picture, decodes only pictures that passed; it never writes files
and never paints. A scene whose `image` (or a world whose `cover`) names such a file shows it in
place of a painted picture.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import WorldError

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image as PILImage

    from engine.worlds.world import Problem, World

MAX_IMAGE_BYTES = 10_000_000        # one picture file on disk
MAX_IMAGE_PIXELS = 4096 * 4096      # width x height; larger pictures are refused undecoded
MAX_IMAGE_FILES = 500               # files in a world's images/ folder
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
NOTE_SUFFIXES = (".md", ".txt")     # notes a modder may keep beside the pictures
_FILE_REF = re.compile(r"[^\s{}]+\.(?:png|jpe?g|webp)", re.IGNORECASE)


def names_a_file(value: str) -> bool:
    """True when a `cover` or storylet `image` value names a picture file instead of a prompt.

    A prompt is a description in words ("a lighthouse at dusk"); a file reference is one word
    ending in an image suffix ("images/cover.png").
    """
    return bool(_FILE_REF.fullmatch(value.strip()))


def check_image(root: Path, relative: str, file: str = "", label: str = "") -> Problem | None:
    """Check one picture inside a world folder without decoding its pixels.

    Args:
        root: the world folder.
        relative: the picture's path relative to the world folder, as the modder wrote it.
        file: the file that names the picture (world.toml, a storylet file); the picture's
            own path when it is just a file in images/.
        label: the field that names it ("cover"), put before the path in the message.

    Returns:
        None when the picture may be used, otherwise a Problem that says what and where.
    """
    from engine.worlds.world import Problem, confined

    file = file or relative
    subject = "" if file == relative else f"{label} '{relative}' ".lstrip()   # say what is named
    path = confined(root, relative)
    if path is None:
        return Problem(file, 0, f"{subject}is outside the world folder (.. or a link); "
                       "refused", "keep pictures inside the world's images/ folder",
                       fatal=False)
    if not path.is_file():
        return Problem(file, 0, f"{subject}does not exist",
                       "check the file name, or describe the picture in words instead")
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        return Problem(file, 0, f"{subject}is {size} bytes, over the "
                       f"{MAX_IMAGE_BYTES} byte limit for a picture; refused",
                       "save it smaller, e.g. as a JPEG of at most 4096 x 4096 pixels")
    try:
        width, height, kind = _header(path)
    except WorldError as err:
        return Problem(file, 0, f"{subject}{err}",
                       "save it again as PNG, JPEG or WebP")
    if width * height > MAX_IMAGE_PIXELS:
        return Problem(file, 0, f"{subject}claims {width} x {height} pixels, over "
                       f"the limit of {MAX_IMAGE_PIXELS} pixels (a possible decompression bomb); "
                       "refused without decoding it", "scale it down to 4096 x 4096 or less")
    return None


def _header(path: Path) -> tuple[int, int, str]:
    """Width, height and format from the file header only; WorldError for anything else."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=list(IMAGE_FORMATS)) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    return width, height, image.format or "?"
                image.verify()   # chunk structure and checksums; no pixel decoding
                return width, height, image.format or "?"
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise WorldError(f"is a decompression bomb ({err})") from None
    except UnidentifiedImageError:
        raise WorldError("is not a PNG, JPEG or WebP picture") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise WorldError(f"is damaged or unreadable ({err})") from None


def check_world_images(world: World) -> list[Problem]:
    """Check images/ and every picture that world.toml or a storylet names.

    Called by load_world, so a refused picture is a Problem like any other: the world still
    loads, and the picture is never decoded.
    """
    from engine.worlds.world import Problem, confined

    problems: list[Problem] = []
    root = world.root
    folder = root / "images"
    if folder.is_symlink() or folder.exists():
        inside = confined(root, "images")
        if inside is None:
            return [Problem("images/", 0, "is a link that leaves the world folder; refused",
                            "make images/ a real folder inside the world")]
        if inside.is_dir():
            entries = sorted(inside.iterdir())
            if len(entries) > MAX_IMAGE_FILES:
                problems.append(Problem("images/", 0, f"{len(entries)} files, over the limit "
                                        f"of {MAX_IMAGE_FILES}; only the first are checked"))
            for entry in entries[:MAX_IMAGE_FILES]:
                relative = f"images/{entry.name}"
                suffix = entry.suffix.lower()
                if confined(root, relative) is None:
                    problems.append(Problem(relative, 0, "is a link that leaves the world "
                                            "folder; refused", "copy the file in instead"))
                    continue
                if suffix in NOTE_SUFFIXES:
                    continue
                if suffix not in IMAGE_SUFFIXES:
                    problems.append(Problem(relative, 0, "is not a picture Dreamreel uses",
                                            "use .png, .jpg or .webp files, or remove it"))
                    continue
                problem = check_image(root, relative)
                if problem is not None:
                    problems.append(problem)
    if names_a_file(world.spec.cover):
        problem = check_image(root, world.spec.cover.strip(), "world.toml", "cover")
        if problem is not None:
            problems.append(problem)
    for storylet in world.storylets.values():
        if names_a_file(storylet.spec.image):
            problem = check_image(root, storylet.spec.image.strip(), storylet.file,
                                  f"storylet '{storylet.id}': image")
            if problem is not None:
                problems.append(Problem(problem.file, storylet.line, problem.message,
                                        problem.hint))
    return _unique(problems)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for problem in problems:
        if str(problem) not in seen:
            seen.add(str(problem))
            out.append(problem)
    return out


def open_world_image(world: World, relative: str) -> PILImage.Image:
    """Decode a world's picture after the checks above; raises WorldError naming the file.

    Front ends call this (on a worker thread) to show a hand-made picture.
    """
    from PIL import Image

    problem = check_image(world.root, relative)
    if problem is not None:
        raise WorldError(f"{world.id}/{problem}")
    path = confined(world.root, relative)
    with Image.open(path, formats=list(IMAGE_FORMATS)) as image:
        image.load()
        return image.convert("RGB")


def shipped_picture(world: World, value: str) -> str | None:
    """The world picture that a `cover` or scene `image` value names, if it may be shown.

    None when the value is a description in words, or names a file that is missing, outside the
    world folder or refused by the checks above (load_world and `worlds validate` report those).
    """
    if not value or not names_a_file(value):
        return None
    relative = value.strip()
    return relative if check_image(world.root, relative) is None else None


def picture_version(world: World, relative: str) -> str:
    """Size and modification time of a shipped picture, so an edited file is shown anew."""
    path = confined(world.root, relative)
    try:
        stat = path.stat() if path is not None else None
    except OSError:
        stat = None
    return f"{stat.st_size}:{stat.st_mtime_ns}" if stat else "missing"


def load_world_picture(world: World, relative: str, size: tuple[int, int]) -> PILImage.Image:
    """A shipped picture decoded (after the checks) and scaled and centre-cropped to `size`."""
    return fill(open_world_image(world, relative), size)


def fill(image: PILImage.Image, size: tuple[int, int]) -> PILImage.Image:
    """Scale and centre-crop an image so it fills `size` exactly (safe on a worker thread)."""
    from PIL import Image

    width, height = max(1, size[0]), max(1, size[1])
    scale = max(width / image.width, height / image.height)
    scaled = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
    if image.mode != "RGB":
        image = image.convert("RGB")
    if scaled != image.size:
        image = image.resize(scaled, Image.Resampling.BILINEAR, reducing_gap=2.0)
    left, top = (scaled[0] - width) // 2, (scaled[1] - height) // 2
    return image.crop((left, top, left + width, top + height))


def confined(root: Path, relative: str) -> Path | None:
    from engine.worlds.world import confined as _confined
    return _confined(root, relative)


__all__ = ["check_image", "check_world_images", "open_world_image", "names_a_file",
           "shipped_picture", "picture_version", "load_world_picture", "fill",
           "MAX_IMAGE_BYTES", "MAX_IMAGE_PIXELS", "IMAGE_FORMATS"]
