"""Glyph fallback: characters the shipped DejaVu fonts lack (CJK, emoji, rare symbols) are drawn
with other fonts, so a player's typed action or a model's narration never shows empty boxes.

The chain, in order: the role's own DejaVu font; fonts dropped into assets/fonts/fallback/ (a
packager or modder may add Noto subsets there); then the system's CJK, emoji and symbol fonts
when they are installed (Noto CJK and Noto Color Emoji on Linux, Segoe UI Emoji and YaHei on
Windows, Apple's on macOS). Which font has a glyph is read from its cmap table (no rendering, no
guessing), once per font file. Fonts are searched for once per process, by file name in the usual
font folders, when a theme first needs them; nothing happens at import.

`FontChain.render()` draws a string in runs, one per font, aligned on the baseline; colour bitmap
emoji (drawn at their fixed size) are scaled to the line. Plain ASCII never comes here: TextCache
sends only text with characters the primary font lacks. No engine calls; reads font files only.
"""

from __future__ import annotations

import bisect
import mmap
import os
import struct
import sys
from pathlib import Path

import pygame

from engine.config import ASSETS

ASSETS_FONTS = ASSETS / "fonts"
FALLBACK_DIR = ASSETS_FONTS / "fallback"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
IGNORED = {0xFE0E, 0xFE0F, 0x200D}     # variation selectors and the zero-width joiner: not drawn
# Wanted system fonts by kind, each a list of file-name fragments (lower case) in preference order.
SYSTEM_FONTS = {
    "cjk": ["notosanscjk-regular", "notosanscjksc-regular", "notosanscjkjp-regular",
            "notosanscjk", "sourcehansans", "droidsansfallbackfull", "droidsansfallback",
            "wqy-microhei", "wqy-zenhei", "msyh", "yugothm", "msgothic", "malgun",
            "pingfang", "hiragino sans", "arialuni"],
    "emoji": ["notocoloremoji", "notoemoji", "seguiemj", "apple color emoji", "twemoji",
              "symbola"],
    "symbols": ["notosanssymbols2-regular", "notosanssymbols-regular", "seguisym",
                "notosansmath-regular"],
}
SKIP_WORDS = ("bold", "black", "light", "thin", "medium", "heavy", "mono", "italic", "semi")


# -- which characters a font has ------------------------------------------------------------
class Coverage:
    """The characters a font file maps to glyphs (its cmap), as sorted ranges."""

    def __init__(self, data: bytes):
        self.starts: list[int] = []
        self.ends: list[int] = []
        try:
            ranges = sorted(_read_cmap(data))
        except (struct.error, ValueError, IndexError):
            ranges = []
        for start, end in ranges:
            if self.ends and start <= self.ends[-1] + 1:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def __contains__(self, char: str) -> bool:
        code = ord(char)
        index = bisect.bisect_right(self.starts, code) - 1
        return index >= 0 and code <= self.ends[index]

    def __bool__(self) -> bool:
        return bool(self.starts)


def _read_cmap(data: bytes) -> list[tuple[int, int]]:
    """(first, last) code point ranges of the best Unicode cmap subtable (formats 4 and 12).
    A collection (.ttc) is read at its first font."""
    offset = 0
    if data[:4] == b"ttcf":
        offset = struct.unpack_from(">I", data, 12)[0]
    count = struct.unpack_from(">H", data, offset + 4)[0]
    cmap = None
    for i in range(count):
        tag, _, table, _ = struct.unpack_from(">4sIII", data, offset + 12 + 16 * i)
        if tag == b"cmap":
            cmap = table
    if cmap is None:
        return []
    subtables = struct.unpack_from(">H", data, cmap + 2)[0]
    best, best_rank = None, -1
    for i in range(subtables):
        platform, encoding, sub = struct.unpack_from(">HHI", data, cmap + 4 + 8 * i)
        fmt = struct.unpack_from(">H", data, cmap + sub)[0]
        rank = {(3, 10, 12): 4, (0, 4, 12): 4, (0, 6, 12): 3, (3, 1, 4): 2, (0, 3, 4): 2,
                (0, 1, 4): 1, (0, 0, 4): 1}.get((platform, encoding, fmt), -1)
        if rank > best_rank:
            best, best_rank = cmap + sub, rank
    if best is None:
        return []
    fmt = struct.unpack_from(">H", data, best)[0]
    if fmt == 12:
        groups = struct.unpack_from(">I", data, best + 12)[0]
        return [struct.unpack_from(">II", data, best + 16 + 12 * g)[:2] for g in range(groups)]
    segments = struct.unpack_from(">H", data, best + 6)[0] // 2
    ends = struct.unpack_from(f">{segments}H", data, best + 14)
    starts = struct.unpack_from(f">{segments}H", data, best + 16 + 2 * segments)
    return [(s, e) for s, e in zip(starts, ends) if s != 0xFFFF]


# -- finding fallback fonts -----------------------------------------------------------------
def font_folders() -> list[Path]:
    """The usual places fonts are installed, for this platform."""
    home = Path.home()
    if sys.platform == "win32":
        windir = Path(os.environ.get("WINDIR", r"C:\Windows"))
        local = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
        return [windir / "Fonts", local / "Microsoft" / "Windows" / "Fonts"]
    if sys.platform == "darwin":
        return [Path("/System/Library/Fonts"), Path("/Library/Fonts"), home / "Library" / "Fonts"]
    data_home = Path(os.environ.get("XDG_DATA_HOME", home / ".local" / "share"))
    return [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), data_home / "fonts",
            home / ".fonts"]


def find_system_fonts(folders: list[Path] | None = None) -> list[Path]:
    """The best installed font of each kind (CJK, emoji, symbols), in that order."""
    files: list[Path] = []
    for folder in folders if folders is not None else font_folders():
        if not folder.is_dir():
            continue
        for root, _, names in os.walk(folder):
            files += [Path(root) / n for n in names if n.lower().endswith(FONT_SUFFIXES)]
    found: list[Path] = []
    for fragments in SYSTEM_FONTS.values():
        for fragment in fragments:
            match = sorted(p for p in files if fragment in p.name.lower()
                           and not any(word in p.stem.lower().replace(fragment, "")
                                       for word in SKIP_WORDS))
            if match:
                found.append(match[0])
                break
    return found


_DISCOVERED: list[Path] | None = None


def fallback_paths() -> list[Path]:
    """The fallback chain after the primary font: shipped fallbacks, then system fonts (searched
    once per process)."""
    global _DISCOVERED
    if _DISCOVERED is None:
        shipped = sorted(p for p in FALLBACK_DIR.glob("*") if p.suffix.lower() in FONT_SUFFIXES) \
            if FALLBACK_DIR.is_dir() else []
        _DISCOVERED = shipped + find_system_fonts()
    return list(_DISCOVERED)


# -- drawing with the chain ---------------------------------------------------------------
class FontChain:
    """Knows which file each of a theme's fonts came from, and draws text any of them lacks
    with the first fallback font that has it.

    Args:
        paths: fallback font files in order (default: fallback_paths(), found on first use).
    """

    def __init__(self, paths: list[Path] | None = None):
        self._paths = None if paths is None else list(paths)
        self._coverage: dict[str, Coverage] = {}      # by font file (or role name for bytes)
        self._primary: dict[int, tuple[str, int]] = {}   # id(font) -> (coverage key, pixels)
        self._fonts: dict[tuple[int, int], pygame.font.Font] = {}   # (fallback, pixels)
        self._fallbacks: list[tuple[Path, Coverage]] | None = None

    def register(self, font: pygame.font.Font, key: str, data: bytes | None, pixels: int) -> None:
        """A theme font: `key` names its file, `data` is that file's bytes (None: pygame's own)."""
        if key not in self._coverage:
            self._coverage[key] = Coverage(data) if data else Coverage(b"")
        self._primary[id(font)] = (key, pixels)

    def pixels(self, font: pygame.font.Font) -> int:
        """The pixel size a registered font was made at (its fallbacks are made the same)."""
        return self._primary.get(id(font), ("", font.get_height()))[1]

    @property
    def fallbacks(self) -> list[tuple[Path, Coverage]]:
        if self._fallbacks is None:
            chain = []
            for path in (self._paths if self._paths is not None else fallback_paths()):
                try:     # mapped, not read: only the cmap's pages of a 20 MB CJK font are touched
                    with open(path, "rb") as handle, \
                            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                        coverage = Coverage(data)
                except (OSError, ValueError):
                    continue
                if coverage:
                    chain.append((Path(path), coverage))
            self._fallbacks = chain
        return self._fallbacks

    def missing(self, font: pygame.font.Font, text: str) -> bool:
        """True when `font` (a registered theme font) lacks a character of `text`."""
        known = self._primary.get(id(font))
        if known is None:
            return False
        coverage = self._coverage[known[0]]
        return any(ch not in coverage and ord(ch) not in IGNORED and ch.isprintable()
                   for ch in text if not ch.isascii())

    def runs(self, font: pygame.font.Font, text: str) -> list[tuple[int, str]]:
        """The text split by font: (-1 for the primary font, else the fallback's index)."""
        known = self._primary.get(id(font))
        coverage = self._coverage[known[0]] if known else None
        out: list[tuple[int, str]] = []
        for ch in text:
            if ord(ch) in IGNORED:
                continue
            which = -1
            if coverage is not None and not ch.isascii() and ch not in coverage:
                which = next((i for i, (_, cover) in enumerate(self.fallbacks) if ch in cover), -1)
            if out and out[-1][0] == which:
                out[-1] = (which, out[-1][1] + ch)
            else:
                out.append((which, ch))
        return out

    def _font(self, index: int, pixels: int) -> pygame.font.Font | None:
        key = (index, pixels)
        font = self._fonts.get(key)
        if font is None:
            try:
                font = pygame.font.Font(str(self.fallbacks[index][0]), pixels)
            except (OSError, pygame.error):
                return None
            self._fonts[key] = font
        return font

    def render(self, font: pygame.font.Font, text: str, colour) -> pygame.Surface:
        """Draw text in runs of the fonts that have its characters, on the primary's baseline."""
        pixels = self.pixels(font)
        height, ascent = font.get_height(), font.get_ascent()
        pieces = []
        for index, run in self.runs(font, text):
            use = font if index < 0 else (self._font(index, pixels) or font)
            image = use.render(run, True, colour)
            y = ascent - use.get_ascent()
            if image.get_height() > height * 1.15:       # a bitmap font (colour emoji)
                scale = height * 0.92 / image.get_height()
                image = pygame.transform.smoothscale(
                    image, (max(1, round(image.get_width() * scale)), max(1, round(height * 0.92))))
                y = (height - image.get_height()) // 2
            pieces.append((image, y))
        width = sum(image.get_width() for image, _ in pieces)
        surface = pygame.Surface((max(1, width), height), pygame.SRCALPHA)
        x = 0
        for image, y in pieces:
            surface.blit(image, (x, y))
            x += image.get_width()
        return surface

    def width(self, font: pygame.font.Font, text: str) -> int:
        return self.render(font, text, (255, 255, 255)).get_width()


__all__ = ["Coverage", "FontChain", "fallback_paths", "find_system_fonts", "font_folders"]
