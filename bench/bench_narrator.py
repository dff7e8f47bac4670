"""Benchmark of the transformers narrator at real size on CPU, with no downloads. Prints JSON.

A Qwen2-0.5B-shaped model (hidden 896, 24 layers, 14 heads, 2 KV heads, intermediate 4864,
vocab 151936) gets random weights, and a byte-level BPE tokenizer with a Qwen-sized vocabulary
(151643 tokens + ChatML specials) is built from generated merges. Speed does not depend on the
weights' values. Measured, on one ~512-token prompt from the real prompt templates:
  * time to first token, cold (nothing cached) and warm (stable prefix cached, new action);
  * decode tokens/s of the narrator with constrained decoding (one forward pass per token,
    fast-forward off) against plain model.generate at the same prompt and length
    (min_new_tokens forces it); and with fast-forward on, for reference.
Usage: python bench/bench_narrator.py [--threads N] [--tokens 32] [--output PATH] [--note TEXT]
On a shared machine whose cores are busy with other work, pass --threads 1: OpenMP threads that
wait for a busy core make every operation several times slower.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import string
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
REGULAR_TOKENS = 151_643            # Qwen2's regular vocabulary
PROSE = ("You kneel at the tide line as the water draws back and something gleams in the weed "
         "while a bell tolls once beneath the waves salt tide lantern cliff harbour keeper storm "
         "gull rope church wreck fog oar net chart beacon shoal reef current boats knock against "
         "stones cries came ashore dusk walk quay look around climb up room ring old arrival")
MODEL_VOCAB = 151_936               # Qwen2's embedding rows


def build_tokenizer(texts: list[str]):
    """A byte-level BPE with a Qwen-sized vocabulary, built in seconds without downloads.

    A BPE is trained on `texts` (prompts like the ones measured) and the prompt templates, so
    their words and JSON punctuation are single tokens, as in a real vocabulary trained on far
    more text; generated merges then fill it up to Qwen2's size (they rank last, so they do not
    change how the trained text splits).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = [p.read_text(encoding="utf-8") for p in (ROOT / "assets" / "prompts").glob("*.j2")]
    corpus += list(texts) + [PROSE, " ".join(f"{n}" for n in range(200))]
    trained = Tokenizer(models.BPE())
    trained.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trained.train_from_iterator(corpus * 20, trainers.BpeTrainer(
        vocab_size=8000, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    model = json.loads(trained.to_str())["model"]
    vocab = dict(model["vocab"])
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]

    def add(left: str, right: str) -> None:
        token = left + right
        if token not in vocab and len(vocab) < REGULAR_TOKENS:
            vocab[token] = len(vocab)
            merges.append((left, right))

    lower = string.ascii_lowercase
    for ch in lower + string.ascii_uppercase + string.digits:
        add("Ġ", ch)
    for a, b in itertools.product(lower, lower):
        add(a, b)
        add("Ġ" + a, b)
    for a, b, c in itertools.product(lower, lower, lower):
        add(a + b, c)
        add("Ġ" + a + b, c)
    for a, b, c, d in itertools.product(lower, lower, lower, lower):  # until the vocab is full
        add("Ġ" + a + b + c, d)
        add(a + b + c, d)
        if len(vocab) >= REGULAR_TOKENS:
            break
    bpe = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>",
                                        additional_special_tokens=["<|im_start|>"])
    tokenizer.chat_template = CHATML
    return tokenizer


def build_model(tokenizer):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(hidden_size=896, num_hidden_layers=24, num_attention_heads=14,
                         num_key_value_heads=2, intermediate_size=4864, vocab_size=MODEL_VOCAB,
                         max_position_embeddings=32768, tie_word_embeddings=True,
                         eos_token_id=tokenizer.eos_token_id, rope_theta=1000000.0)
    torch.manual_seed(0)
    return Qwen2ForCausalLM(config).to(torch.float32).eval(), config


def build_world(folder: Path, premise_words: int):
    """A world whose prompt is about 512 tokens: its premise sets the length."""
    from engine.worlds.loading import load_world
    words = ("salt bell tide lantern cliff harbour keeper storm gull rope church wreck fog "
             "oar net chart beacon shoal reef current").split()
    premise = " ".join(words[i % len(words)] for i in range(premise_words)) + "."
    (folder / "storylets").mkdir(parents=True, exist_ok=True)
    (folder / "world.toml").write_text(
        f'title = "Bench Coast"\npremise = "{premise}"\ntone = "gothic"\n'
        f'player_role = "the keeper"\nstart = "a"\n[[characters]]\nid = "maren"\n'
        f'name = "Maren Holt"\nappearance = "grey braid"\ndescription = "The old keeper."\n'
        f'[state]\nlocation = "harbour"\ninventory = ["lantern"]\n', encoding="utf-8")
    (folder / "storylets" / "s.toml").write_text(
        '[[storylet]]\nid = "a"\ntitle = "A"\ntext = "A."\n[[storylet.choices]]\nlabel = "x"\n'
        '[[storylet.choices]]\nlabel = "y"\n', encoding="utf-8")
    return load_world(str(folder))


def request_for(world, label: str, seed: int):
    from engine.narrators import Action, NarrationRequest, RecentScene
    recent = (RecentScene(title="The Quay", action="Walk to the quay",
                          narration="Boats knock against the stones and a gull cries."),)
    return NarrationRequest(world=world, state=world.initial_state(), seed=seed, node=1,
                            action=Action(label=label), recent=recent,
                            summary="- Arrival: You came ashore at dusk.")


class _Clock:
    """A generate() streamer that notes when the first new token arrives."""

    def __init__(self):
        self.calls, self.first = 0, None

    def put(self, _value):
        self.calls += 1
        if self.calls == 2:   # the first call carries the prompt
            self.first = time.perf_counter()

    def end(self):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--tokens", type=int, default=32, help="narrator token budget")
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "narrator_cpu.json"))
    parser.add_argument("--note", default="", help="a remark stored with the results")
    args = parser.parse_args()

    import torch
    torch.set_flush_denormal(True)
    if args.threads:
        torch.set_num_threads(args.threads)
    from engine.narrators.hf import TransformersNarrator

    from engine.narrators.prompting import PromptBuilder

    timings: dict = {}
    tmp = tempfile.TemporaryDirectory()
    labels = ("Look around the harbour", "Climb up to the lantern room", "Ring the old bell")
    started = time.perf_counter()
    worlds = {words: build_world(Path(tmp.name) / f"w{words}", words) for words in (1, 40, 300)}
    texts = [PromptBuilder().build(request_for(w, label, 1)).text()
             for w in worlds.values() for label in labels]
    tokenizer = build_tokenizer(texts)
    timings["tokenizer_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    model, config = build_model(tokenizer)
    timings["model_s"] = round(time.perf_counter() - started, 2)

    def narrator(**options):
        return TransformersNarrator.from_objects(model, tokenizer, "bench-qwen2-0.5b-random",
                                                 max_new_tokens=args.tokens, **options)

    started = time.perf_counter()
    cold = narrator(fast_forward=False)
    timings["grammar_s"] = round(time.perf_counter() - started, 2)

    def prompt_size(world) -> int:
        return len(cold._encoder.encode(cold.prompts.build(request_for(world, labels[0], 1))).ids)

    low, high = 1, 300   # premise words: the world bible grows the stable prefix to the size
    while low < high:
        middle = (low + high) // 2
        if prompt_size(build_world(Path(tmp.name) / f"w{middle}", middle)) < args.prompt_tokens:
            low = middle + 1
        else:
            high = middle
    world = build_world(Path(tmp.name) / f"w{low}", low)
    first = request_for(world, labels[0], seed=1)
    cold.narrate(first)
    second = request_for(world, labels[1], seed=2)
    cold.narrate(second)
    ours = second.extras["attempts"][0]
    fast = narrator(fast_forward=True)
    fast._prefix = cold._prefix     # the same model: share the cached prefix
    third = request_for(world, labels[2], seed=3)
    fast.narrate(third)
    ours_ff = third.extras["attempts"][0]
    tmp.cleanup()

    length = ours["new_tokens"]
    ids = torch.tensor([list(cold._encoder.encode(cold.prompts.build(second)).ids)])
    clock = _Clock()
    with torch.inference_mode():
        t0 = time.perf_counter()
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True,
                             temperature=0.8, top_k=40, top_p=0.95, min_new_tokens=length,
                             max_new_tokens=length, streamer=clock, pad_token_id=0)
        end = time.perf_counter()
    generated = out.shape[1] - ids.shape[1]
    plain_rate = (generated - 1) / (end - clock.first)
    ratio = ours["decode_tokens_per_s"] / plain_rate
    cold_ttft = first.extras["attempts"][0]["ttft_s"]
    warm_ttft = ours["ttft_s"]
    result = {
        "benchmark": "narrator_cpu",
        "note": args.note,
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
                    "dtype": "float32", "device": "cpu"},
        "model": {"shape": "Qwen2-0.5B (random weights)", "hidden": config.hidden_size,
                  "layers": config.num_hidden_layers, "vocab": config.vocab_size,
                  "tokenizer_vocab": len(tokenizer)},
        "setup_s": timings,
        "prompt_tokens": first.extras["prompt_tokens"],
        "stable_prefix_tokens": ours["reused_tokens"],
        "ttft_cold_s": cold_ttft,
        "ttft_warm_s": warm_ttft,
        "narrator_constrained": {"tokens": length, "forward_passes": ours["forward_passes"],
                                 "closed_off": ours["closed_off"],
                                 "decode_tokens_per_s": ours["decode_tokens_per_s"]},
        "narrator_constrained_fast_forward": {
            "tokens": ours_ff["new_tokens"], "forward_passes": ours_ff["forward_passes"],
            "decode_tokens_per_s": ours_ff["decode_tokens_per_s"]},
        "plain_generate": {"tokens": generated, "decode_tokens_per_s": round(plain_rate, 3),
                           "total_s": round(end - t0, 3)},
        "ratio_vs_plain": round(ratio, 3),
        "targets": {"ratio>=0.85": ratio >= 0.85,
                    "tokens_per_s>=6": ours["decode_tokens_per_s"] >= 6,
                    "ttft_cold<4s": cold_ttft < 4, "ttft_warm<1s": warm_ttft < 1},
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
