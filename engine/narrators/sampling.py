"""Sampler settings shared by the language-model narrators, with presets by model size.

Players who come from KoboldCpp, SillyTavern or text-generation-webui know these knobs:
temperature, top-k, top-p, min-p, repetition penalty over a range, frequency and presence
penalties, no-repeat n-gram, the DRY sequence-repetition sampler and a word-level no-repeat
guard against copied runs (`no_repeat_words`, local models only). One frozen `Sampling`
holds them; the transformers narrator applies them in its decode loop and the openai narrator
sends them as request fields. `sampling_from` splits sampler names out of a narrator's options
(from the spec, the `[narrator]` config table or `:narrator`) and lays them over the preset for
the model's size. Pure data: no torch, no network.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from engine.errors import NarratorError

# DRY resets its match at these strings: JSON keys and punctuation between fields repeat by
# nature and must not be penalised, only runs of prose copied from earlier text. (Not ":"
# as elsewhere: inside prose it let "1:1:1:1..." loop unpenalised; JSON keys hold quotes.)
DEFAULT_BREAKERS: tuple[str, ...] = ("\n", "\"", "*")


@dataclass(frozen=True)
class Sampling:
    """How the next token is picked. 0 (or 1.0 for multiplicative penalties) turns a knob off."""

    temperature: float = 0.8          # 0: greedy
    top_k: int = 40                   # sample among the k likeliest tokens (0: all)
    top_p: float = 0.95               # ... within this probability mass (1.0: off)
    min_p: float = 0.05               # drop tokens under min_p x the top token's probability
    repetition_penalty: float = 1.1   # divide logits of tokens seen in the last range (1.0: off)
    repetition_range: int = 256       # tokens looked back for the repetition penalty (0: all)
    frequency_penalty: float = 0.0    # OpenAI-style: minus this x count of the token so far
    presence_penalty: float = 0.0     # OpenAI-style: minus this once a token appeared
    no_repeat_ngram: int = 0          # forbid repeating any n-gram of this size (0: off)
    no_repeat_words: int = 8          # no run of this many words from the prompt or the
                                      # narration itself, whatever the punctuation (0: off)
    dry_multiplier: float = 0.8       # DRY sequence-repetition penalty strength (0: off)
    dry_base: float = 1.75            # DRY: growth of the penalty per extra repeated token
    dry_allowed_length: int = 2       # DRY: repeats up to this many tokens are free
    dry_range: int = 1024             # DRY: tokens looked back, prompt tail included (0: all)
    dry_breakers: tuple[str, ...] = field(default=DEFAULT_BREAKERS)   # DRY resets at these

    def with_options(self, options: dict) -> "Sampling":
        """A copy with the named knobs changed, converting strings from a command line."""
        return replace(self, **parse_sampling(options))


# Presets by model size. Small models loop and copy unless pushed away from repeats hard;
# large ones need little help and are hurt by strong penalties.
PRESETS: dict[str, Sampling] = {
    "small": Sampling(temperature=0.5, top_k=40, top_p=0.95, min_p=0.1,
                      repetition_penalty=1.1, repetition_range=256, frequency_penalty=0.0,
                      presence_penalty=0.0, no_repeat_ngram=0, no_repeat_words=6,
                      dry_multiplier=0.8, dry_base=1.75, dry_allowed_length=2, dry_range=2048),
    "medium": Sampling(temperature=0.8, top_k=40, top_p=0.95, min_p=0.05,
                       repetition_penalty=1.07, repetition_range=512, dry_multiplier=0.8,
                       dry_range=2048),
    "large": Sampling(temperature=0.8, top_k=0, top_p=0.95, min_p=0.05,
                      repetition_penalty=1.0, no_repeat_words=10, dry_multiplier=0.6,
                      dry_range=2048),
}
SAMPLING_NAMES = frozenset(f.name for f in fields(Sampling)) | {"preset"}
SMALL_PARAMS = 1_000_000_000     # under this many parameters: the small preset
LARGE_PARAMS = 10_000_000_000    # from this many: the large preset


def preset_for(parameters: int | None) -> str:
    """The preset name for a model with this many parameters (medium when unknown)."""
    if parameters is None:
        return "medium"
    if parameters < SMALL_PARAMS:
        return "small"
    return "large" if parameters >= LARGE_PARAMS else "medium"


def parse_sampling(options: dict) -> dict:
    """Typed values for sampler options given as strings or numbers; NarratorError on a bad one."""
    kinds = {f.name: type(getattr(Sampling(), f.name)) for f in fields(Sampling)}
    values = {}
    for name, value in options.items():
        if name not in kinds:
            raise NarratorError(f"Unknown sampler option '{name}'. Known: "
                                f"{', '.join(sorted(SAMPLING_NAMES))}.")
        kind = kinds[name]
        try:
            if kind is tuple:
                if isinstance(value, str):
                    value = [part for part in value.split("|")]
                value = tuple(str(part).encode().decode("unicode_escape") for part in value)
            else:
                value = kind(value)
        except (TypeError, ValueError, UnicodeDecodeError):
            raise NarratorError(f"Sampler option {name}={value!r} is not a valid "
                                f"{kind.__name__}.") from None
        if kind in (int, float) and value < 0:
            raise NarratorError(f"Sampler option {name} must not be negative (got {value}).")
        values[name] = value
    if values.get("top_p", 1.0) > 1.0 or values.get("min_p", 0.0) > 1.0:
        raise NarratorError("Sampler options top_p and min_p are probabilities: 0 to 1.")
    return values


def split_sampling(options: dict) -> tuple[dict, dict]:
    """(sampler options, the rest) of a narrator's options."""
    sampler = {k: v for k, v in options.items() if k in SAMPLING_NAMES}
    rest = {k: v for k, v in options.items() if k not in SAMPLING_NAMES}
    return sampler, rest


def sampling_from(options: dict, parameters: int | None = None) -> Sampling:
    """The preset (named by option `preset`, else picked from the model's size) with the
    given sampler options laid over it."""
    options = dict(options)
    name = str(options.pop("preset", "auto") or "auto").lower()
    if name == "auto":
        name = preset_for(parameters)
    if name not in PRESETS:
        raise NarratorError(f"Unknown sampler preset '{name}'; use auto, "
                            f"{', '.join(PRESETS)}.")
    return PRESETS[name].with_options(options)


__all__ = ["Sampling", "PRESETS", "SAMPLING_NAMES", "DEFAULT_BREAKERS", "preset_for",
           "parse_sampling", "split_sampling", "sampling_from"]
