"""Loading a Hugging Face causal LM and turning prompts into token ids, for the hf narrator.

Device and dtype are chosen by the caller (engine.compute.torch_device and torch_dtype). Models
load from local files only: a hub id must be in the local Hugging Face cache (`dreamreel models
pull` puts it there), since play never downloads. Loading failures become NarratorErrors that say
what to do; there is never a silent fallback to another model.

Prompts are tokenized so that only the chat template can produce control tokens: the template
is rendered around placeholder markers, its own text is tokenized normally, and every message
text (world files, summaries, the player's typed action) is tokenized with
split_special_tokens=True, so a typed `</s>` or `<|im_start|>system` stays plain text. The
number of tokens in the stable system part is recorded so its KV cache can be reused.
Imports torch and transformers: only engine.narrators.hf imports this module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from engine.errors import NarratorError
from engine.hf_hub import in_local_cache, pull_advice
from engine.narrators.prompting import Prompt

_SYSTEM_MARK = "\U000f0001dreamreel-system\U000f0002"
_USER_MARK = "\U000f0001dreamreel-user\U000f0002"
PLAIN_TAIL = "\n\nScene JSON:\n"   # ends a plain (no chat template) prompt


@dataclass(frozen=True)
class Encoded:
    """A prompt as the model sees it."""

    text: str              # the exact text, template markup included
    ids: tuple[int, ...]   # its token ids
    stable: int            # how many leading ids belong to the stable system part


def load_model(spec: str, device: str, dtype: torch.dtype, trust_remote_code: bool = False):
    """Load tokenizer and model from a folder or a hub id in the local cache (never the network);
    NarratorError with advice on failure."""
    from engine.narrators.gguf import find_gguf, load_gguf
    gguf = find_gguf(spec)
    if gguf is not None:
        try:
            model, tokenizer = load_gguf(gguf, dtype, trust_remote_code)
            model.to(device)
            model.eval()
        except (torch.OutOfMemoryError, MemoryError) as err:
            raise NarratorError(f"Not enough memory to load {gguf} on {device} ({err}). Try a "
                                f"smaller model, or play with --narrator storylets.") from None
        return model, tokenizer
    advice = pull_advice(spec)
    hint = (f"{advice[:1].upper()}{advice[1:]}, check the name or folder (`dreamreel models "
            f"list` shows good choices), or play with --narrator storylets.")
    local = os.path.isdir(os.path.expanduser(spec))
    path = os.path.expanduser(spec) if local else spec
    if not local and (spec.startswith(("/", "./", "../", "~", "\\")) or os.sep * 2 in spec
                      or spec.count("/") > 1):
        raise NarratorError(f"No model folder at '{spec}'. Check the path (a folder with "
                            f"config.json and the weights), or download a model with `dreamreel "
                            f"models pull <hub id>` (see `dreamreel models list`), or play with "
                            f"--narrator storylets.")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code,
                                                  local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True,
                                                     trust_remote_code=trust_remote_code)
        model.to(device)
        model.eval()
    except (torch.OutOfMemoryError, MemoryError) as err:
        detail = (str(err).splitlines() or [type(err).__name__])[0][:160]
        raise NarratorError(f"Not enough memory to load narrator model '{spec}' on {device} "
                            f"({detail}). Try a smaller model from `dreamreel models list`, "
                            f"or play with --narrator storylets.") from None
    except (OSError, ValueError, KeyError, ImportError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:240]
        if "out of memory" in first.lower() or "can't allocate" in first.lower():
            raise NarratorError(f"Not enough memory to load narrator model '{spec}' ({first}). "
                                f"Try a smaller model, or play with --narrator storylets."
                                ) from None
        if not local and not in_local_cache(spec):
            reason = ("it is not in the local Hugging Face cache, and models are never "
                      "downloaded during play")
        elif not local:
            reason = (f"its copy in the local Hugging Face cache does not load as a causal "
                      f"language model ({first})")
        else:
            reason = f"the folder does not hold a causal language model ({first})"
        raise NarratorError(f"Cannot load narrator model '{spec}': {reason}. {hint}") from None
    except RuntimeError as err:
        first = str(err).splitlines()[0][:240] if str(err) else type(err).__name__
        raise NarratorError(f"Cannot load narrator model '{spec}' on {device}: {first}. "
                            f"{hint}") from None
    return model, tokenizer


def eos_ids(model, tokenizer) -> list[int]:
    """Every id that ends a turn: the tokenizer's EOS and the generation config's."""
    found: list[int] = []
    for value in (getattr(model.generation_config, "eos_token_id", None), tokenizer.eos_token_id):
        for token in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(token, int) and token not in found:
                found.append(token)
    return found


def logits_size(model) -> int:
    """How many logits the model produces per position."""
    head = model.get_output_embeddings()
    if head is not None and getattr(head, "weight", None) is not None:
        return int(head.weight.shape[0])
    return int(model.config.get_text_config().vocab_size)


def context_size(model) -> int | None:
    """The longest sequence the model was built for, when its config says."""
    config = model.config.get_text_config()
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


class PromptEncoder:
    """Turns a Prompt into token ids with the tokenizer's chat template (or a plain layout)."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.chat = bool(getattr(tokenizer, "chat_template", None))
        bos = tokenizer.bos_token_id
        probe = tokenizer("a", add_special_tokens=True)["input_ids"]
        self._bos = [bos] if bos is not None and probe and probe[0] == bos else []
        self._layout = self._skeleton() if self.chat else None  # once: keeps the prefix stable

    def plain_ids(self, text: str) -> list[int]:
        """Ids of untrusted text: special-token strings in it are split into plain tokens."""
        if not text:
            return []
        return list(self.tokenizer(text, add_special_tokens=False,
                                   split_special_tokens=True)["input_ids"])

    def _markup_ids(self, text: str) -> list[int]:
        if not text:
            return []
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(self, prompt: Prompt) -> Encoded:
        """Tokenize a prompt; its system part comes first so its KV cache can be kept."""
        skeleton = self._layout
        if skeleton is None:
            system_ids = self._bos + self.plain_ids(prompt.system + "\n\n")
            rest = self.plain_ids(prompt.user + PLAIN_TAIL)
            text = (self.tokenizer.decode(self._bos) + prompt.system + "\n\n" + prompt.user
                    + PLAIN_TAIL)
            return Encoded(text=text, ids=tuple(system_ids + rest), stable=len(system_ids))
        head, middle, tail = skeleton
        system_ids = self._markup_ids(head) + self.plain_ids(prompt.system)
        rest = self._markup_ids(middle) + self.plain_ids(prompt.user) + self._markup_ids(tail)
        text = head + prompt.system + middle + prompt.user + tail
        return Encoded(text=text, ids=tuple(system_ids + rest), stable=len(system_ids))

    def _skeleton(self) -> tuple[str, str, str] | None:
        """The chat template's text around the system and user messages, or None to go plain."""
        layouts = ([{"role": "system", "content": _SYSTEM_MARK},
                    {"role": "user", "content": _USER_MARK}],
                   [{"role": "user", "content": _SYSTEM_MARK + "\n\n" + _USER_MARK}])
        for messages in layouts:
            try:
                text = self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                          add_generation_prompt=True)
            except Exception:  # templates may refuse a system role; try the next layout
                continue
            if not isinstance(text, str) or text.count(_SYSTEM_MARK) != 1 \
                    or text.count(_USER_MARK) != 1:
                continue
            head, _, after = text.partition(_SYSTEM_MARK)
            middle, _, tail = after.partition(_USER_MARK)
            return head, middle, tail
        return None


__all__ = ["Encoded", "PromptEncoder", "load_model", "eos_ids",
           "logits_size", "context_size", "PLAIN_TAIL"]
