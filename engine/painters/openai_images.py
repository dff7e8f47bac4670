"""The openai-images painter: any OpenAI-compatible images server paints the scenes.

`--painter openai-images:<model>@<base url>`, e.g. `openai-images:sd-turbo@http://127.0.0.1:8080/v1`
(LocalAI, vLLM-based image servers, stable-diffusion.cpp's server and others that serve
`POST <base url>/images/generations`). Options come after the spec (`...?steps=4&timeout=300`)
or as make_painter options (the config's `[images] steps`).

Each picture is one request: {model, prompt, n: 1, size: "WxH", response_format: "b64_json"},
plus the fields such servers read beyond OpenAI's: `seed`, `steps` (and LocalAI's `step`) and
`negative_prompt` (LocalAI reads a negative prompt after a "|" in the prompt instead:
`negative_in_prompt=true`). A server that refuses those fields by name is asked again without
them, and from then on. The picture comes back as base64 in the answer or as a URL, which is
fetched only from the same scheme, host and port as the base URL (or read from a data: URL).
HTTP goes through the openai narrator's wire helpers (engine.narrators.openai_wire): the same
retries on connection errors, 429 and 5xx, with backoff, and the same one-line server messages.

The picture is checked like a world's picture (engine.worlds.pictures' limits: bytes, PNG / JPEG
/ WebP only, pixel count read from the header before any pixel is decoded), then scaled and
centre-cropped to the size asked for.

Privacy: this painter sends the text prompt and numbers (size, seed, steps) only. It must never
send a portrait, a picture or any local file, follow a URL to another server, or decode a
picture before the checks. Failures are PainterErrors that name the server and say what to do
(the Session then shows the procedural picture in its place).

Cache: `id` is "openai-images" and `model` is "<server model>@<host:port/path>", so the same
model name on two servers (which may hold different weights) never shares pictures, and a
server moved to another port paints its pictures anew.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import io
import json
import logging
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from engine.errors import PainterError
from engine.narrators.openai_wire import (KEY_VARIABLES, RETRY_STATUS, api_key, connection_reason,
                                          error_message, split_model_url, summarize)
from engine.worlds.pictures import IMAGE_FORMATS, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, fill

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = MAX_IMAGE_BYTES * 4 // 3 + 65_536   # a picture as base64, and the JSON around it
EXTRA_FIELDS = ("seed", "steps", "step", "negative_prompt")
SEED_MASK = 0x7FFF_FFFF          # servers keep the seed in a signed 32-bit int
_REFUSED_FIELD = re.compile(r"unrecognized|unknown|extra (fields|inputs)|not permitted|"
                            r"unexpected keyword", re.IGNORECASE)
_MODEL_MISSING = re.compile(r"model.*(not found|does not exist|unknown|no such|not exist)",
                            re.IGNORECASE)
_SIZE = re.compile(r"^\s*(\d{2,4})\s*x\s*(\d{2,4})\s*$")


@dataclass(frozen=True)
class OpenAIImagesOptions:
    """Settings of the openai-images painter (spec options after "?", or make_painter options)."""

    timeout: float = 120.0       # seconds to connect and to wait for the picture
    retries: int = 2             # extra tries after connection errors, 429 and 5xx
    backoff: float = 0.5         # seconds before the first retry, doubled each time
    steps: int = 0               # inference steps asked for (0: the server's default)
    negative_prompt: str = ""    # what the picture should not show ("" = none)
    negative_in_prompt: bool = False   # LocalAI: send it as "prompt|negative" instead
    size: str = ""               # "WxH" to ask the server for (e.g. 512x512); "": the picture's
    extra_fields: bool = True    # send seed, steps and negative_prompt
    api_key: str = ""            # default: $DREAMREEL_OPENAI_KEY or $OPENAI_API_KEY


def parse_images_options(options: dict) -> OpenAIImagesOptions:
    """Options from strings (a spec's query, a config) or values; PainterError names a bad one."""
    from engine.narrators import parse_options
    parsed = parse_options(OpenAIImagesOptions, options, "openai-images", PainterError, "painter")
    if parsed.timeout <= 0 or parsed.retries < 0 or parsed.backoff < 0 or parsed.steps < 0:
        raise PainterError("Painter options: timeout must be above 0; retries, backoff and "
                           "steps 0 or more.")
    if parsed.size and not _SIZE.match(parsed.size):
        raise PainterError(f"Painter option size={parsed.size!r} must be WIDTHxHEIGHT, "
                           f"e.g. 512x512.")
    return parsed


class OpenAIImagesPainter:
    """Paints with a model behind an OpenAI-compatible images endpoint; see the module docstring.

    Attributes:
        id: "openai-images".
        model: "<server model>@<host:port/path>" (part of every image cache key).
        steps: the steps asked for (0: the server's default).
        negative_prompt: what the picture should not show (part of the cache key).
    """

    id = "openai-images"

    def __init__(self, model: str, base_url: str, **options):
        parts = urllib.parse.urlsplit(base_url.strip())
        if not model.strip() or parts.scheme not in ("http", "https") or not _origin(parts):
            raise PainterError("Use --painter openai-images:<model>@<base url>, e.g. "
                               "openai-images:sd-turbo@http://127.0.0.1:8080/v1")
        self.server_model = model.strip()
        self.base_url = base_url.strip().rstrip("/")
        self.options = parse_images_options(options)
        self.steps = self.options.steps
        self.negative_prompt = self.options.negative_prompt
        self._origin = _origin(parts)
        where = f"{_host_port(parts)}{parts.path.rstrip('/')}"
        asked = f"?size={self.options.size.replace(' ', '')}" if self.options.size else ""
        self.model = f"{self.server_model}@{where}{asked}"
        self._extras = self.options.extra_fields
        self._lock = threading.Lock()

    @classmethod
    def from_spec(cls, rest: str, **options) -> "OpenAIImagesPainter":
        """Build from the part of the spec after `openai-images:`, i.e. `<model>@<base url>`."""
        parts = split_model_url(rest)
        if parts is None:
            raise PainterError(f"'openai-images:{rest}' needs a server: use "
                               f"openai-images:<model>@<base url>, e.g. "
                               f"openai-images:sd-turbo@http://127.0.0.1:8080/v1")
        return cls(*parts, **options)

    @property
    def api_key(self) -> str:
        """The key sent as a Bearer token: the option, else the environment ("" for none)."""
        return api_key(self.options.api_key)

    @property
    def endpoint(self) -> str:
        """The URL pictures are asked from."""
        return f"{self.base_url}/images/generations"

    # -- the protocol -----------------------------------------------------------------------
    def paint(self, prompt: str, seed: int, size: tuple[int, int],
              on_progress: Callable[[float], None] | None = None) -> Image.Image:
        """Ask the server for the prompt's picture, check it and fit it to size (width, height).

        Raises:
            PainterError: the server cannot be reached, refuses, or answers without a usable
                picture; the message names the server and says what to do.
        """
        width, height = _check_size(size)
        report = on_progress or (lambda fraction: None)
        report(0.0)
        answer = self._generate(prompt, seed, self.options.size.replace(" ", "") or
                                f"{width}x{height}")
        report(0.9)
        image = fill(self._picture(answer), (width, height))
        report(1.0)
        return image

    # -- the request ------------------------------------------------------------------------
    def _body(self, prompt: str, seed: int, size: str, extras: bool) -> dict:
        body = {"model": self.server_model, "prompt": prompt, "n": 1, "size": size,
                "response_format": "b64_json"}
        negative = self.negative_prompt.strip()
        if negative and self.options.negative_in_prompt:
            body["prompt"] = f"{prompt.replace('|', ' ')}|{negative}"
        if extras:
            body["seed"] = int(seed) & SEED_MASK
            if self.steps:
                body["steps"] = body["step"] = self.steps
            if negative and not self.options.negative_in_prompt:
                body["negative_prompt"] = negative
        return body

    def _generate(self, prompt: str, seed: int, size: str) -> dict:
        """The server's JSON answer for one picture, with retries and the extras step-down."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = self.api_key
        if key:
            headers["Authorization"] = f"Bearer {key}"
        delay, last, reached, tries, attempt = self.options.backoff, "", False, \
            self.options.retries + 1, 0
        while attempt < tries:
            if attempt:
                time.sleep(delay)
                delay *= 2
            attempt += 1
            extras = self._extras
            body = self._body(prompt, seed, size, extras)
            request = urllib.request.Request(self.endpoint, data=json.dumps(body).encode("utf-8"),
                                             headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.options.timeout) as response:
                    raw = response.read(MAX_ANSWER_BYTES + 1)
            except urllib.error.HTTPError as err:
                code, message = err.code, error_message(err)
                if extras and code in (400, 422) and _names_extra_field(message):
                    self._drop_extras(message)
                    attempt -= 1          # not the server's fault: ask again at once
                    continue
                failure = self._http_error(code, message)
                if failure is not None:
                    raise failure from None
                last, reached = f"HTTP {code}: {message}", True
                continue
            except (TimeoutError, socket.timeout):
                raise PainterError(f"The image server at {self.base_url} sent no picture within "
                                   f"{self.options.timeout:g} s. Raise the timeout (e.g. "
                                   f"...?timeout=300 after the painter spec), or paint with "
                                   f"--painter procedural.") from None
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException) as err:
                last, reached = connection_reason(err), False
                continue
            return self._answer(raw)
        if reached:
            raise PainterError(f"The image server at {self.base_url} failed {tries} times: "
                               f"{last}. Check its log, or paint with --painter procedural.")
        raise PainterError(f"Cannot reach the image server at {self.base_url} after {tries} "
                           f"tries: {last}. Is it running and the URL right (it usually ends "
                           f"in /v1)? Or paint with --painter procedural.")

    def _drop_extras(self, message: str) -> None:
        with self._lock:
            if self._extras:
                self._extras = False
                log.info("openai-images painter: %s refused the extra fields (%s); sending "
                         "the standard ones only", self.base_url, message)

    def _http_error(self, code: int, message: str) -> PainterError | None:
        """The error for an HTTP status, or None when it is worth another try."""
        if code in (401, 403):
            return PainterError(f"The image server at {self.base_url} refused the API key "
                                f"({code}: {message}). Set DREAMREEL_OPENAI_KEY or "
                                f"OPENAI_API_KEY.")
        if _MODEL_MISSING.search(message):
            return PainterError(f"The image server at {self.base_url} has no model "
                                f"'{self.server_model}' ({message}). Name one it serves: "
                                f"--painter openai-images:<model>@{self.base_url}")
        if code == 404:
            return PainterError(f"{self.endpoint} was not found (404). Check the base URL (it "
                                f"usually ends in /v1) and that the server paints pictures.")
        if code in RETRY_STATUS:
            return None
        return PainterError(f"The image server at {self.base_url} refused the picture "
                            f"({code}: {message}).")

    # -- the answer -------------------------------------------------------------------------
    def _answer(self, raw: bytes) -> dict:
        if len(raw) > MAX_ANSWER_BYTES:
            raise PainterError(f"The image server at {self.base_url} sent more than "
                               f"{MAX_ANSWER_BYTES} bytes for one picture; refused.")
        try:
            value = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PainterError(f"The image server at {self.base_url} sent something that is "
                               f"not JSON ({raw[:60]!r}). Is {self.endpoint} an "
                               f"OpenAI-compatible images endpoint?") from None
        if isinstance(value, dict) and (error := value.get("error")):
            detail = error.get("message") if isinstance(error, dict) else error
            raise PainterError(f"The image server at {self.base_url} failed: "
                               f"{summarize(str(detail or error))}")
        data = value.get("data") if isinstance(value, dict) else None
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise PainterError(f"The image server at {self.base_url} answered without a "
                               f"picture (no \"data\" list). Is {self.endpoint} an "
                               f"OpenAI-compatible images endpoint?")
        return data[0]

    def _picture(self, item: dict) -> Image.Image:
        """The picture an answer's item holds, decoded after the checks."""
        encoded = item.get("b64_json")
        if isinstance(encoded, str) and encoded:
            return self._decode(_base64(encoded, self.base_url), "its b64_json picture")
        url = item.get("url")
        if isinstance(url, str) and url:
            if url.startswith("data:"):
                head, _, payload = url.partition(",")
                if ";base64" not in head:
                    raise PainterError(f"The image server at {self.base_url} sent a data: URL "
                                       f"that is not base64; refused.")
                return self._decode(_base64(payload, self.base_url), "its data: URL")
            return self._decode(self._fetch(url), f"the picture at {url}")
        raise PainterError(f"The image server at {self.base_url} answered without a picture "
                           f"(neither b64_json nor url).")

    def _fetch(self, url: str) -> bytes:
        """A picture the answer points at: fetched from the base URL's own server only."""
        target = urllib.parse.urljoin(self.base_url + "/", url)
        parts = urllib.parse.urlsplit(target)
        if parts.scheme not in ("http", "https") or _origin(parts) != self._origin:
            raise PainterError(f"The image server at {self.base_url} pointed at a picture on "
                               f"another server ({_origin(parts) or url}); refused: pictures "
                               f"are fetched only from the server itself. Ask it for b64_json.")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            with urllib.request.urlopen(urllib.request.Request(target, headers=headers),
                                        timeout=self.options.timeout) as response:
                data = response.read(MAX_IMAGE_BYTES + 1)
        except urllib.error.HTTPError as err:
            raise PainterError(f"The image server at {self.base_url} could not hand over its "
                               f"picture ({err.code}: {error_message(err)}).") from None
        except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError,
                http.client.HTTPException) as err:
            raise PainterError(f"The picture at {target} could not be fetched "
                               f"({connection_reason(err)}).") from None
        return data

    def _decode(self, data: bytes, what: str) -> Image.Image:
        """Decode picture bytes after the world pictures' checks; PainterError names why not."""
        prefix = f"The image server at {self.base_url} sent {what}"
        if len(data) > MAX_IMAGE_BYTES:
            raise PainterError(f"{prefix}: over {MAX_IMAGE_BYTES} bytes; refused.")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
                    width, height = image.size
                    if width * height > MAX_IMAGE_PIXELS:
                        raise PainterError(f"{prefix}: it claims {width} x {height} pixels, "
                                           f"over the limit of {MAX_IMAGE_PIXELS} (a possible "
                                           f"decompression bomb); refused without decoding it.")
                    image.load()
                    return image.convert("RGB")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
            raise PainterError(f"{prefix}: a decompression bomb ({err}); refused.") from None
        except Image.UnidentifiedImageError:
            raise PainterError(f"{prefix}: not a PNG, JPEG or WebP picture; refused.") from None
        except (OSError, SyntaxError, ValueError) as err:
            raise PainterError(f"{prefix}: damaged or unreadable ({err}).") from None


def _base64(text: str, base_url: str) -> bytes:
    if len(text) > MAX_ANSWER_BYTES:
        raise PainterError(f"The image server at {base_url} sent a picture over "
                           f"{MAX_IMAGE_BYTES} bytes; refused.")
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise PainterError(f"The image server at {base_url} sent a picture that is not valid "
                           f"base64.") from None


def _names_extra_field(message: str) -> bool:
    """True when an error message refuses one of the fields beyond OpenAI's by name."""
    return bool(_REFUSED_FIELD.search(message)) and any(
        re.search(rf"\b{name}\b", message) for name in EXTRA_FIELDS)


def _host_port(parts: urllib.parse.SplitResult, default_port: bool = False) -> str:
    """host:port (IPv6 in brackets); with default_port, the scheme's port is written out."""
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    try:
        port = parts.port or ({"http": 80, "https": 443}.get(parts.scheme) if default_port
                              else None)
    except ValueError:   # a port that is not a number
        return ""
    return f"{host}:{port}" if host and port else host


def _origin(parts: urllib.parse.SplitResult) -> str:
    """scheme://host:port, with the scheme's default port written out (so they compare)."""
    where = _host_port(parts, default_port=True)
    return f"{parts.scheme}://{where}" if where else ""


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError) as err:
        raise PainterError(f"Image size must be two whole numbers (width, height), got "
                           f"{size!r}.") from err
    if not (1 <= width <= 4096 and 1 <= height <= 4096):
        raise PainterError(f"Image size {width}x{height} is out of range: 1 to 4096 a side.")
    return width, height


__all__ = ["OpenAIImagesPainter", "OpenAIImagesOptions", "parse_images_options",
           "KEY_VARIABLES", "MAX_ANSWER_BYTES"]
