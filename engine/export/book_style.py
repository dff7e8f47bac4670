"""How a book looks: its colours (from the story's own pictures), its fonts and its stylesheet.

Worlds carry no palette, so the book takes its colours from the opening picture, which the
world's art style painted: an accent from its most telling colour, the ink from its average
hue, a warm paper faintly tinted by it. Each chapter's heading rule takes its mood's colour.
The fonts are the game's own (DejaVu Serif for text, DejaVu Sans Bold for titles), from
assets/fonts. The same stylesheet serves the one-file HTML book (fonts as data: URIs, a print
layout) and the EPUB (fonts as files in the book).

This module decides looks only: it never writes files, and reads nothing but the font files.
"""

from __future__ import annotations

import base64
import colorsys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.paths import ASSETS

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image as PILImage

FONTS_DIR = ASSETS / "fonts"
# (family, weight, style, file): the three faces the book uses, embedded whole (about 1.4 MB)
FONT_FACES: tuple[tuple[str, int, str, str], ...] = (
    ("Book Serif", 400, "normal", "DejaVuSerif.ttf"),      # narration
    ("Book Serif", 400, "italic", "DejaVuSerif-Italic.ttf"),  # premise, the actions between
    ("Book Sans", 700, "normal", "DejaVuSans-Bold.ttf"),   # titles
)
PAPER = (248, 243, 233)       # warm paper, before the opening picture tints it
INK = (38, 33, 29)            # the ink when a picture gives no hue to lean on
MIN_CONTRAST = 4.5            # WCAG AA for text: accents stay readable on the paper
# A mood's colour for its chapter's heading rule (the moods of engine.story.schema.MOODS).
MOOD_COLOURS: dict[str, str] = {
    "calm": "#5b8c85",
    "bright": "#d49a2a",
    "tense": "#b4513a",
    "dark": "#3d4160",
    "eerie": "#5f8a62",
    "melancholy": "#6a7c9e",
    "triumphant": "#c0892a",
    "mysterious": "#7b5c93",
}


@dataclass(frozen=True)
class Palette:
    """The book's colours as CSS hex strings."""

    paper: str    # the page
    ink: str      # body text
    accent: str   # titles' small lines, the drop cap: the opening picture's own colour
    quiet: str    # the actions between chapters, captions


def hex_colour(rgb: tuple[float, float, float]) -> str:
    """#rrggbb for an (r, g, b) of 0..255 values."""
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def _luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG relative luminance of 0..255 sRGB."""
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _mix(a, b, amount: float) -> tuple[float, float, float]:
    return tuple(x + (y - x) * amount for x, y in zip(a, b))


def _from_hls(hue: float, lightness: float, saturation: float) -> tuple[float, float, float]:
    return tuple(c * 255 for c in colorsys.hls_to_rgb(hue, lightness, saturation))


def _telling_colour(image: "PILImage.Image") -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The picture's most telling colour (saturated, not rare, not black) and its average."""
    from PIL import Image

    import numpy as np

    small = image.convert("RGB").resize((48, 27), Image.Resampling.BILINEAR)
    pixels = small.width * small.height
    average = tuple(float(c) for c in np.asarray(small).reshape(-1, 3).mean(axis=0))
    quantized = small.quantize(colors=12, method=Image.Quantize.MEDIANCUT)
    flat = quantized.getpalette() or []
    best, best_score = average, -1.0
    for count, index in quantized.getcolors() or []:
        rgb = tuple(flat[index * 3:index * 3 + 3])
        _, saturation, value = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
        score = saturation * min(1.0, value * 4) * (count / pixels) ** 0.5
        if score > best_score:
            best, best_score = rgb, score
    return best, average


def palette_from(image: "PILImage.Image | None") -> Palette:
    """The book's colours, from its opening picture (None: plain warm paper and dark ink)."""
    if image is None:
        return Palette(hex_colour(PAPER), hex_colour(INK), "#8a5a2b", "#7a7068")
    telling, average = _telling_colour(image)
    hue, _, saturation = colorsys.rgb_to_hls(*(c / 255 for c in average))
    paper = _mix(PAPER, _from_hls(hue, 0.85, min(saturation, 0.4)), 0.08)
    ink = _from_hls(hue, 0.13, min(saturation, 0.3))
    a_hue, a_light, a_sat = colorsys.rgb_to_hls(*(c / 255 for c in telling))
    a_light = min(max(a_light, 0.36), 0.45)       # a colour, neither near black nor pale
    a_sat = min(max(a_sat, 0.45), 0.75)
    accent = _from_hls(a_hue, a_light, a_sat)
    while contrast(accent, paper) < MIN_CONTRAST and a_light > 0.05:
        a_light -= 0.02
        accent = _from_hls(a_hue, a_light, a_sat)
    quiet = _mix(ink, paper, 0.42)
    return Palette(hex_colour(paper), hex_colour(ink), hex_colour(accent), hex_colour(quiet))


def font_data_uris(faces=FONT_FACES) -> dict[str, str]:
    """Each face's file as a base64 data: URI, keyed by file name (for the one-file book)."""
    return {file: "data:font/ttf;base64," + base64.b64encode((FONTS_DIR / file).read_bytes())
            .decode("ascii") for _, _, _, file in faces}


def font_files(faces=FONT_FACES) -> list[Path]:
    """The face files the book embeds (for the EPUB)."""
    return [FONTS_DIR / file for _, _, _, file in faces]


def stylesheet(palette: Palette, font_urls: dict[str, str], *, epub: bool = False) -> str:
    """The book's CSS: fonts, colours, a reading layout on screen and a print layout.

    Args:
        palette: the colours.
        font_urls: where each face's file is (by file name): data: URIs or relative paths.
        epub: for an EPUB reader, which owns the page: no page width, background or print
            rules of our own.
    """
    faces = "".join(
        f'@font-face{{font-family:"{family}";font-weight:{weight};font-style:{style};'
        f'src:url("{font_urls[file]}") format("truetype");}}\n'
        for family, weight, style, file in FONT_FACES if file in font_urls)
    moods = "".join(f".mood-{mood} .heading::after{{border-top-color:{colour};}}\n"
                    for mood, colour in MOOD_COLOURS.items())
    serif = '"Book Serif","DejaVu Serif",Georgia,serif'
    sans = '"Book Sans","DejaVu Sans","Helvetica Neue",Arial,sans-serif'
    css = f"""{faces}
body{{font-family:{serif};color:{palette.ink};line-height:1.65;}}
h1,h2{{font-family:{sans};font-weight:700;line-height:1.2;letter-spacing:.01em;}}
.title-page{{text-align:center;}}
.title-page h1{{font-size:2.6em;margin:0 0 .4em;}}
.byline{{font-family:{sans};font-weight:700;text-transform:uppercase;letter-spacing:.18em;
  font-size:.8em;color:{palette.accent};margin:0 0 2em;}}
.premise{{font-style:italic;color:{palette.quiet};max-width:34em;margin:0 auto;}}
.ornament{{color:{palette.accent};font-size:1.6em;margin:1.2em 0 0;}}
.picture{{margin:0 0 1.6em;}}
.picture img{{display:block;width:100%;height:auto;}}
.kicker{{font-family:{sans};font-weight:700;text-transform:uppercase;letter-spacing:.16em;
  font-size:.72em;color:{palette.accent};margin:0 0 .5em;}}
.heading h2{{font-size:1.75em;margin:0;}}
.heading::after{{content:"";display:block;width:4.5em;border-top:3px solid {palette.accent};
  margin:.8em 0 1.4em;}}
{moods}.narration p{{margin:0 0 .9em;orphans:2;widows:2;}}
.narration p:first-child::first-letter{{font-family:{serif};float:left;
  font-size:3.3em;line-height:.85;margin:.05em .08em 0 0;color:{palette.accent};}}
.action{{font-style:italic;color:{palette.quiet};text-align:center;margin:2.2em 0;
  text-wrap:balance;}}
.action::before,.action::after{{content:"\\2014";margin:0 .6em;color:{palette.accent};}}
.the-end{{font-family:{sans};font-weight:700;text-transform:uppercase;letter-spacing:.3em;
  text-align:center;color:{palette.accent};margin:3em 0;}}
"""
    if epub:
        return css + (".title-page{margin-top:20%;}\n.chapter{page-break-before:always;}\n"
                      ".narration p{text-align:justify;hyphens:auto;}\n")
    return css + f"""html{{background:{palette.paper};}}
body{{margin:0;padding:0 1.5rem;font-size:1.13rem;}}
main{{max-width:40rem;margin:0 auto;}}
.title-page{{padding:clamp(4rem,12vh,8rem) 0 2rem;}}
.chapter{{padding-top:3.5rem;}}
.picture{{margin:0 -6rem 2rem;}}
.picture img{{border-radius:3px;box-shadow:0 .6rem 2rem rgba(0,0,0,.18);}}
@media (max-width:56rem){{.picture{{margin:0 0 1.6rem;}}}}
@page{{margin:18mm 17mm;}}
@media print{{
  html,body{{background:none;}}
  body{{font-size:11pt;padding:0;}}
  main{{max-width:none;}}
  .title-page{{padding:30vh 0 0;break-after:page;}}
  .chapter{{padding-top:0;break-before:page;}}
  .picture{{margin:0 0 1.2em;break-inside:avoid;}}
  .picture img{{box-shadow:none;border-radius:0;max-height:45vh;width:auto;max-width:100%;
    margin:0 auto;}}
  .heading{{break-after:avoid;break-inside:avoid;}}
  .action{{break-before:avoid;}}
  .the-end{{break-before:avoid;}}
}}
"""


__all__ = ["FONT_FACES", "MOOD_COLOURS", "Palette", "contrast", "font_data_uris", "font_files",
           "hex_colour", "palette_from", "stylesheet"]
