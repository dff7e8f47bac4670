"""Importing SillyTavern character cards and lorebooks into a world, as plain data.

Cards come from strangers: files of at most 20 MB; PNGs read chunk by chunk without decoding a
pixel (refused when the header claims more pixels than Dreamreel accepts: a decompression bomb);
compressed text inflated with a cap; JSON depth and text lengths capped; only the fields below
used. A card's system prompt, scripts, regexes and extensions are ignored: it gives a world
characters and lore, never instructions or code. {{char}} and {{user}} become names, HTML plain
text, and any template syntax left is removed.

Formats: character cards V1, V2 (`chara_card_v2`) and V3 (`chara_card_v3`) as JSON, or as PNG
with the card base64-encoded in a tEXt/zTXt/iTXt chunk named `chara` (V2) or `ccv3` (V3); their
embedded `character_book`; and SillyTavern world info files ({"entries": {"0": {...}}}).
This module only reads and converts: it never writes a file. engine.worlds.append writes the
result into a world's world.toml and lore.toml.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import WorldError
from engine.worlds.pictures import MAX_IMAGE_PIXELS
from engine.story.state import as_id
from engine.text import shorten, without_controls

MAX_CARD_BYTES = 20_000_000    # a card or lorebook file
MAX_CHUNK_TEXT = 16_000_000    # a PNG text chunk, inflated
MAX_FIELD_CHARS = 50_000       # any text field read from a card, before trimming
MAX_LORE_ENTRIES = 1_000       # lore entries taken from one file
MAX_KEYWORDS = 20              # keywords kept per entry
MAX_KEYWORD_CHARS = 60
NAME_CHARS, APPEARANCE_CHARS, DESCRIPTION_CHARS, LORE_CHARS = 60, 400, 1000, 4000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CARD_CHUNKS = ("ccv3", "chara")   # the V3 chunk wins when a PNG carries both
_LOOKS = re.compile(r"\b(hair|eyes?|wears?|wearing|dressed|tall|short|slender|muscular|build|"
                    r"skin|face|freckles|beard|scars?|tattoos?|cloak|coat|armou?r|uniform|"
                    r"glasses|ears|tail|horns|looks?|appearance|height|clothes|outfit)\b", re.I)


class CardError(WorldError):
    """A card or lorebook file that cannot be imported; the message says why."""


@dataclass(frozen=True)
class LoreItem:
    """One lorebook entry, cleaned: what a [[lore]] table needs."""

    name: str
    keywords: tuple[str, ...]
    text: str
    priority: int = 0


@dataclass
class Imported:
    """What a file gave: characters (world.toml [[characters]] tables), lore and notes."""

    kind: str                                          # "V2 card (PNG)", "world info", ...
    characters: list[dict] = field(default_factory=list)
    lore: list[LoreItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)     # what was skipped or ignored, and why


def read_import(path: Path, player: str = "the player") -> Imported:
    """Parse a card (JSON or PNG) or a world info file; CardError says what is wrong.

    Args:
        path: the file to import.
        player: the name {{user}} becomes (the world's player name).
    """
    path = Path(path)
    try:
        if not path.is_file():
            raise CardError(f"{path}: no such file.")
        if path.stat().st_size > MAX_CARD_BYTES:
            raise CardError(f"{path}: {path.stat().st_size} bytes, over the {MAX_CARD_BYTES} "
                            "byte limit for a card; refused.")
        with path.open("rb") as handle:
            data = handle.read(MAX_CARD_BYTES + 1)
    except OSError as err:
        raise CardError(f"{path}: cannot be read ({err.strerror}).") from None
    if data.startswith(PNG_SIGNATURE):
        chunks = png_text_chunks(data, path.name)
        keyword = next((k for k in CARD_CHUNKS if k in chunks), None)
        if keyword is None:
            raise CardError(f"{path.name}: a PNG without a character card (no 'chara' or "
                            "'ccv3' text chunk). Export the card from SillyTavern again.")
        try:
            text = base64.b64decode(chunks[keyword], validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise CardError(f"{path.name}: the '{keyword}' chunk is not base64 JSON.") from None
        return parse_json(_load_json(text, path.name), path.name, player, suffix=" (PNG)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CardError(f"{path.name}: neither a PNG card nor UTF-8 JSON.") from None
    return parse_json(_load_json(text, path.name), path.name, player)


def png_text_chunks(data: bytes, name: str = "card") -> dict[str, str]:
    """The tEXt, zTXt and iTXt chunks of a PNG, read without decoding any pixels.

    Raises CardError for a damaged file, or when the header claims more pixels than
    MAX_IMAGE_PIXELS (a decompression bomb: refused even though it is never decoded).
    """
    chunks: dict[str, str] = {}
    offset, size = len(PNG_SIGNATURE), len(data)
    while offset + 12 <= size:
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if len(body) != length:
            raise CardError(f"{name}: the PNG is cut short; refused.")
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
            if width * height > MAX_IMAGE_PIXELS:
                raise CardError(f"{name}: the PNG claims {width} x {height} pixels, over the "
                                f"limit of {MAX_IMAGE_PIXELS} (a possible decompression bomb); "
                                "refused.")
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            keyword, _, rest = body.partition(b"\0")
            text = _chunk_text(kind, rest, name)
            if text is not None:
                chunks.setdefault(keyword.decode("latin-1"), text)
        elif kind == b"IEND":
            break
        offset += 12 + length
    return chunks


def _chunk_text(kind: bytes, rest: bytes, name: str) -> str | None:
    if kind == b"tEXt":
        return rest.decode("latin-1")
    if kind == b"zTXt":
        return _inflate(rest[1:], name).decode("latin-1")
    if len(rest) < 2:
        return None
    compressed, rest = rest[0], rest[2:]
    _language, _, rest = rest.partition(b"\0")
    _translated, _, text = rest.partition(b"\0")
    raw = _inflate(text, name) if compressed else text
    return raw.decode("utf-8", "replace")


def _inflate(data: bytes, name: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_CHUNK_TEXT)
    except zlib.error:
        raise CardError(f"{name}: a compressed PNG text chunk is damaged.") from None
    if inflater.unconsumed_tail:
        raise CardError(f"{name}: a compressed PNG text chunk inflates past {MAX_CHUNK_TEXT} "
                        "bytes (a compression bomb); refused.")
    return out


def _load_json(text: str, name: str):
    try:
        return json.loads(text)
    except RecursionError:
        raise CardError(f"{name}: the JSON is nested too deeply; refused.") from None
    except json.JSONDecodeError as err:
        raise CardError(f"{name}: not valid JSON (line {err.lineno}: {err.msg}).") from None


def parse_json(obj, name: str, player: str = "the player", suffix: str = "") -> Imported:
    """Turn a decoded card or world info object into characters and lore."""
    if not isinstance(obj, dict):
        raise CardError(f"{name}: not a character card or lorebook (expected a JSON object).")
    spec = obj.get("spec")
    if spec in ("chara_card_v2", "chara_card_v3") and isinstance(obj.get("data"), dict):
        return _card(obj["data"], f"{'V3' if spec.endswith('v3') else 'V2'} card{suffix}",
                     name, player)
    if "entries" in obj and not ("name" in obj and "description" in obj):
        result = Imported(kind=f"world info{suffix}")
        result.lore = _book(obj, "", player, result.notes)
        return result
    if isinstance(obj.get("name"), str) and any(k in obj for k in ("description", "personality",
                                                                     "first_mes")):
        return _card(obj, f"V1 card{suffix}", name, player)
    raise CardError(f"{name}: not a SillyTavern character card (V1, V2, V3) or world info "
                    "file; nothing imported.")


def _card(data: dict, kind: str, name: str, player: str) -> Imported:
    char = clean_text(_text(data, "name"), "", player, NAME_CHARS)
    if not char:
        raise CardError(f"{name}: the card has no character name.")
    result = Imported(kind=kind)
    description = clean_text(_text(data, "description"), char, player, MAX_FIELD_CHARS)
    personality = clean_text(_text(data, "personality"), char, player, MAX_FIELD_CHARS)
    about = description
    if personality and len(about) < DESCRIPTION_CHARS - 40:
        about = f"{about} Personality: {personality}".strip()
    result.characters.append({
        "id": as_id(ascii_fold(char)) or "character", "name": char,
        "appearance": _appearance(description, personality),
        "description": shorten(about, DESCRIPTION_CHARS)})
    scenario = clean_text(_text(data, "scenario"), char, player, LORE_CHARS)
    if scenario:
        result.lore.append(LoreItem(f"{char} scenario", (char.split()[0].lower(),), scenario, 5))
    ignored = [k for k in ("system_prompt", "post_history_instructions", "first_mes",
                           "alternate_greetings", "mes_example") if data.get(k)]
    if ignored:
        result.notes.append(f"ignored {', '.join(ignored)}: a world's opening is its start "
                            "storylet, and only files in prompts/ change what the narrator is "
                            "told")
    book = data.get("character_book")
    if isinstance(book, dict):
        result.lore += _book(book, char, player, result.notes)
    return result


def _book(book: dict, char: str, player: str, notes: list[str]) -> list[LoreItem]:
    entries = book.get("entries", [])
    if isinstance(entries, dict):
        entries = list(entries.values())
    if not isinstance(entries, list):
        notes.append("the lorebook's entries are not a list; none imported")
        return []
    if len(entries) > MAX_LORE_ENTRIES:
        notes.append(f"{len(entries)} lore entries; only the first {MAX_LORE_ENTRIES} imported")
    items = []
    for index, raw in enumerate(entries[:MAX_LORE_ENTRIES]):
        if not isinstance(raw, dict):
            continue
        label = _text(raw, "comment") or _text(raw, "name") or f"entry {index + 1}"
        if raw.get("disable") is True or raw.get("enabled") is False:
            notes.append(f"skipped disabled lore entry '{shorten(label, 40)}'")
            continue
        text = clean_text(_text(raw, "content"), char, player, LORE_CHARS)
        if not text:
            notes.append(f"skipped empty lore entry '{shorten(label, 40)}'")
            continue
        keys = _keywords(raw.get("keys", raw.get("key")), char, player) or \
            _keywords(raw.get("secondary_keys", raw.get("keysecondary")), char, player)
        if not keys:
            notes.append(f"lore entry '{shorten(label, 40)}' has no plain keywords (regex keys are "
                         f"not supported); quote it in a storylet as lore.<id>")
        priority = next((raw[k] for k in ("priority", "insertion_order", "order")
                         if isinstance(raw.get(k), int) and not isinstance(raw.get(k), bool)), 0)
        items.append(LoreItem(clean_text(label, char, player, 80) or f"entry {index + 1}",
                              tuple(keys), text, max(-999, min(999, priority))))
    return items


def _keywords(value, char: str, player: str) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    out: list[str] = []
    for key in value[:200]:
        if not isinstance(key, str) or re.fullmatch(r"/.+/[a-z]*", key.strip()):
            continue   # regular expressions: not supported by Dreamreel's lore triggers
        word = clean_text(key, char, player, MAX_KEYWORD_CHARS).lower()
        if word and word not in out:
            out.append(word)
    return out[:MAX_KEYWORDS]


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def clean_text(text: str, char: str, player: str, limit: int) -> str:
    """Plain text from card text: macros become names, HTML and template syntax go.

    {{char}} / <BOT> become the character's name and {{user}} / <USER> the player's; other
    {{macros}} are removed, as are any {{, {%, {# left, so imported text can never act as a
    template. Tags are stripped (<br> and </p> become line breaks), entities decoded, control
    characters dropped, and the result cut at a word near `limit` characters.
    """
    text = text[:MAX_FIELD_CHARS]
    if char:
        text = re.sub(r"\{\{\s*char\s*\}\}|<bot>", char, text, flags=re.I)
    text = re.sub(r"\{\{\s*user\s*\}\}|<user>", player, text, flags=re.I)
    text = re.sub(r"\{\{[^{}]{0,500}\}\}", "", text)
    text = re.sub(r"<\s*br\s*/?>|<\s*/\s*(p|div|li|h\d)\s*>", "\n", text, flags=re.I)
    text = html.unescape(re.sub(r"<[^<>]{0,500}>", "", text))
    while (cleaned := re.sub(r"\{[{%#]|[}%#]\}", "", text)) != text:   # '{}}{' must not
        text = cleaned                                                # leave a new '{{'
    text = without_controls(text, replacement="")
    text = re.sub(r"[ \t]+", " ", re.sub(r"\n\s*\n\s*\n+", "\n\n", text))
    return shorten(text.strip(), limit)


def _appearance(description: str, personality: str) -> str:
    """The sentences that describe how the character looks, else the description's first."""
    sentences = re.split(r"(?<=[.!?])\s+", f"{description} {personality}".replace("\n", " "))
    looks = [s.strip() for s in sentences if _LOOKS.search(s)]
    chosen = " ".join(looks) if looks else (sentences[0].strip() if sentences else "")
    return shorten(chosen, APPEARANCE_CHARS)


__all__ = ["CardError", "Imported", "LoreItem", "read_import", "parse_json", "png_text_chunks",
           "clean_text", "ascii_fold", "MAX_CARD_BYTES"]
