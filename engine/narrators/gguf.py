"""GGUF model files as narrator models: `--narrator transformers:<file.gguf or its folder>`.

Many players already have GGUF files from Ollama, LM Studio or KoboldCpp. transformers reads
them through the `gguf` package and dequantizes the weights for the CPU (or GPU), which takes
tens of seconds for even a small model. So the first load converts the file once into a plain
model folder (safetensors, fp32-sized) in Dreamreel's cache, keyed by the file's path, size and
time; every later load reads that folder in about a second. A changed file gets a new folder.
Everything is read from local files (local_files_only): play never downloads.

Errors name the file and say which architectures and quantizations load. Imports torch and
transformers lazily (only engine.narrators.hf_runtime calls this module).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from engine.errors import NarratorError

CONVERTED_MARK = "dreamreel-gguf.txt"   # written last: a folder without it is incomplete
QUANTIZATIONS = ("F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K",
                 "Q4_K", "Q5_K", "Q6_K", "IQ-quants the gguf package dequantizes")


def cache_root() -> Path:
    """Where converted GGUF models live: $DREAMREEL_CACHE, else ~/.cache/dreamreel."""
    if os.environ.get("DREAMREEL_CACHE"):
        return Path(os.environ["DREAMREEL_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return base / "dreamreel"


def find_gguf(spec: str) -> Path | None:
    """The GGUF file a narrator spec names: a .gguf file, or a folder holding exactly one .gguf
    and no config.json. None when the spec is not about a GGUF file.

    Raises:
        NarratorError: a folder holds several GGUF files (name one), or the file is missing.
    """
    path = Path(os.path.expanduser(spec))
    if spec.lower().endswith(".gguf"):
        if not path.is_file():
            raise NarratorError(f"No GGUF file at '{spec}'. Check the path.")
        return path
    if path.is_dir() and not (path / "config.json").exists():
        found = sorted(p for p in path.glob("*.gguf") if p.is_file())
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(p.name for p in found[:6])
            raise NarratorError(f"'{spec}' holds several GGUF files ({names}). Name one: "
                                f"--narrator transformers:{path / found[0].name}")
    return None


def converted_folder(gguf: Path) -> Path:
    """The cache folder for this GGUF file as it is now (path, size and time in the key)."""
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return cache_root() / "gguf" / f"{gguf.stem[:60]}-{key.hexdigest()[:16]}"


def load_gguf(gguf: Path, dtype, trust_remote_code: bool = False):
    """(model, tokenizer) from a GGUF file, through the converted folder when there is one."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = converted_folder(gguf)
    if (folder / CONVERTED_MARK).exists():
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype,
                                                         local_files_only=True)
            return model, tokenizer
        except (OSError, ValueError):       # a damaged conversion: make it again
            shutil.rmtree(folder, ignore_errors=True)
    model, tokenizer = _read_gguf(gguf, dtype, trust_remote_code)
    try:
        _save_converted(model, tokenizer, folder, gguf)
    except OSError:
        pass   # a full or read-only disk: play from memory, convert again next time
    return model, tokenizer


def _read_gguf(gguf: Path, dtype, trust_remote_code: bool):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    try:
        from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES
    except ImportError:
        GGUF_SUPPORTED_ARCHITECTURES = []
    folder, name = str(gguf.parent), gguf.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name, local_files_only=True,
                                                  trust_remote_code=trust_remote_code)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=dtype,
                                                     local_files_only=True,
                                                     trust_remote_code=trust_remote_code)
    except ImportError as err:
        raise NarratorError(f"Reading GGUF files needs the gguf package ({err.name or err} is "
                            f"missing): pip install -e '.[ml]'.") from None
    except (ValueError, KeyError, NotImplementedError, RuntimeError, OSError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        archs = ", ".join(a for a in GGUF_SUPPORTED_ARCHITECTURES
                          if a not in ("general", "tokenizer"))
        raise NarratorError(
            f"Cannot load the GGUF file {gguf} ({first}). transformers reads GGUF models of "
            f"these architectures: {archs or 'see the transformers GGUF docs'}; quantizations "
            f"{', '.join(QUANTIZATIONS)}. Try another quantization of the model, its "
            f"safetensors folder, or serve the file with llama.cpp and use "
            f"--narrator openai:<model>@<url>.") from None
    return model, tokenizer


def _save_converted(model, tokenizer, folder: Path, gguf: Path) -> None:
    """Save a GGUF-loaded model as a plain folder (save_pretrained refuses the GGUF-loaded
    model itself, so a fresh one is built from its config without the quantization config)."""
    from transformers import AutoModelForCausalLM

    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".converting-", dir=folder.parent))
    try:
        config = model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        plain = AutoModelForCausalLM.from_config(config, dtype=model.dtype)
        plain.load_state_dict(model.state_dict(), strict=False)
        plain.generation_config = model.generation_config
        plain.save_pretrained(work)
        tokenizer.save_pretrained(work)
        (work / CONVERTED_MARK).write_text(f"converted from {gguf}\n", encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


__all__ = ["find_gguf", "load_gguf", "converted_folder", "cache_root"]
