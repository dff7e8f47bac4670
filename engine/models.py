"""Models for players: the recommended list, what is already downloaded, and downloads.

The CLI calls these for `dreamreel models list` and `dreamreel models pull ID`; both write to
the stream they are given and return an exit code (0 success, 1 failure, 2 bad input, 130
interrupted) instead of exiting. RECOMMENDED is plain data: painter models are added as rows
with kind="painter". The local Hugging Face cache is found the way huggingface_hub finds it
(HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub), read at call time, and
HF_HUB_OFFLINE is honoured (engine.hf_hub.offline). huggingface_hub is imported only inside pull_model.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from engine.hf_hub import offline

OK, FAILED, BAD_INPUT, INTERRUPTED = 0, 1, 2, 130
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]{0,95}(/[\w.\-]{1,96})?$")
DOWNLOAD_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken", "*.jinja"]


@dataclass(frozen=True)
class ModelEntry:
    """One recommended model."""

    repo_id: str          # Hugging Face Hub id
    kind: str             # "narrator", "painter", "music" or "voice"
    params: str           # size of the model, e.g. "1.5B"
    download: str         # rough download size
    note: str             # what it is good for, in a few words
    gated: bool = False   # needs a licence accepted on huggingface.co and a login


RECOMMENDED: tuple[ModelEntry, ...] = (
    ModelEntry("Qwen/Qwen2.5-0.5B-Instruct", "narrator", "0.5B", "1.0 GB",
               "fastest; any CPU; simple prose"),
    ModelEntry("Qwen/Qwen2.5-1.5B-Instruct", "narrator", "1.5B", "3.1 GB",
               "good balance on a CPU"),
    ModelEntry("Qwen/Qwen2.5-3B-Instruct", "narrator", "3B", "6.2 GB",
               "best prose here; a GPU or a fast CPU"),
    ModelEntry("HuggingFaceTB/SmolLM2-1.7B-Instruct", "narrator", "1.7B", "3.4 GB",
               "open licence, English"),
    ModelEntry("meta-llama/Llama-3.2-1B-Instruct", "narrator", "1B", "2.5 GB",
               "gated: accept the licence on huggingface.co, then log in", gated=True),
    ModelEntry("meta-llama/Llama-3.2-3B-Instruct", "narrator", "3B", "6.4 GB",
               "gated: accept the licence on huggingface.co, then log in", gated=True),
    ModelEntry("facebook/musicgen-small", "music", "300M", "2.4 GB",
               "MusicGen: the soundtrack from each scene's mood; a GPU helps"),
    ModelEntry("facebook/mms-tts-eng", "voice", "36M", "0.15 GB",
               "VITS English voice; quick on any CPU"),
)


def _painter_rows() -> tuple[ModelEntry, ...]:
    """The diffusers painter's recommendations (kept beside the painter), as table rows."""
    from engine.painters.diffusers import RECOMMENDED as PAINTERS
    return tuple(ModelEntry(row["id"], "painter", "", f"{row['size_gb']:.1f} GB", row["note"])
                 for row in PAINTERS)


RECOMMENDED = RECOMMENDED + _painter_rows()
# A diffusers pipeline needs its parts' configs and weights, not the single-file checkpoints
# or the half-precision copies many repos also carry (two to three times the download).
PAINTER_PATTERNS = ["model_index.json", "*/*.json", "*/*.txt", "*/diffusion_pytorch_model.safetensors",
                    "*/model.safetensors"]


def kind_of(repo_id: str) -> str:
    """The kind of a recommended model ('painter', 'music', 'voice'), else 'narrator'."""
    return next((e.kind for e in RECOMMENDED if e.repo_id == repo_id), "narrator")


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache folder, from the environment as it is now."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return base / "huggingface" / "hub"


def is_cached(repo_id: str, cache: Path | None = None) -> bool:
    """True when a snapshot of the model (with its config.json) is in the local cache."""
    folder = (cache or hub_cache_dir()) / ("models--" + repo_id.replace("/", "--")) / "snapshots"
    try:
        return any((snapshot / "config.json").is_file() for snapshot in folder.iterdir())
    except OSError:
        return False


def cached_repo_ids(cache: Path | None = None) -> list[str]:
    """Every model id with a snapshot in the local cache, sorted."""
    cache = cache or hub_cache_dir()
    try:
        folders = [p.name for p in cache.iterdir() if p.name.startswith("models--")]
    except OSError:
        return []
    ids = [name[len("models--"):].replace("--", "/", 1) for name in folders]
    return sorted(i for i in ids if is_cached(i, cache))


def list_models(stream: TextIO | None = None, kind: str | None = None) -> int:
    """Print the recommended models, marking those already downloaded (`dreamreel models list`).

    Args:
        stream: where to write (stdout by default).
        kind: only "narrator", "painter", "music" or "voice" rows; all kinds by default.

    Returns:
        An exit code: 0, or 2 for an unknown kind.
    """
    out = stream or sys.stdout
    kinds = sorted({entry.kind for entry in RECOMMENDED} | {"narrator", "painter"})
    if kind is not None and kind not in kinds:
        out.write(f"Unknown model kind '{kind}'; use one of: {', '.join(kinds)}.\n")
        return BAD_INPUT
    cache = hub_cache_dir()
    cached = set(cached_repo_ids(cache))
    for group in (k for k in kinds if kind in (None, k)):
        rows = [e for e in RECOMMENDED if e.kind == group]
        if not rows:
            continue
        use = {"narrator": "--narrator transformers:<id>", "painter": "--painter diffusers:<id>",
               "music": "--music musicgen:<id>",
               "voice": "--read-aloud --voice transformers:<id>"}.get(group, f"the {group} option")
        out.write(f"Recommended {group} models (use with {use}):\n")
        width = max(len(e.repo_id) for e in rows)
        out.write(f"  {'ID':<{width}}  {'SIZE':<5}  {'DOWNLOAD':<8}  {'CACHED':<6}  NOTES\n")
        for e in rows:
            mark = "yes" if e.repo_id in cached else "-"
            out.write(f"  {e.repo_id:<{width}}  {e.params:<5}  {e.download:<8}  {mark:<6}  "
                      f"{e.note}\n")
        out.write("\n")
    others = sorted(cached - {e.repo_id for e in RECOMMENDED})
    if others:
        out.write("Also in your cache: " + ", ".join(others) + "\n")
    out.write(f"Cache folder: {cache} (set HF_HOME or HF_HUB_CACHE to move it).\n")
    if offline():
        out.write("Offline mode (HF_HUB_OFFLINE is set): only cached models can be used.\n")
    out.write("Download one with: dreamreel models pull <id>\n")
    return OK


def pull_model(repo_id: str, stream: TextIO | None = None, kind: str | None = None) -> int:
    """Download a model into the local cache with a progress bar (`dreamreel models pull ID`).

    Args:
        repo_id: a Hugging Face Hub id such as "Qwen/Qwen2.5-0.5B-Instruct".
        stream: where progress and messages go (stdout by default).
        kind: "narrator", "painter", "music" or "voice"; default: from the recommended table,
            else narrator.

    Returns:
        An exit code: 0 downloaded (or already there), 1 failed (offline, unreachable, not
        found, gated), 2 not a valid id, 130 interrupted.
    """
    out = stream or sys.stdout
    repo_id = repo_id.strip()
    if not _REPO_ID.match(repo_id) or ".." in repo_id:
        out.write(f"'{repo_id}' is not a Hugging Face model id (like Qwen/Qwen2.5-0.5B-Instruct). "
                  f"See `dreamreel models list`.\n")
        return BAD_INPUT
    if offline():
        if is_cached(repo_id):
            out.write(f"'{repo_id}' is already in the cache (offline mode is on, so it was not "
                      f"checked for updates).\n")
            return OK
        out.write(f"Cannot download '{repo_id}': offline mode is on (HF_HUB_OFFLINE is set) and "
                  f"the model is not in the cache. Unset HF_HUB_OFFLINE and try again, or play "
                  f"with --narrator storylets.\n")
        return FAILED
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub import errors as hub_errors
        from tqdm.auto import tqdm
    except ImportError as err:
        out.write(f"Downloading needs huggingface_hub ({err.name} is missing): "
                  f"pip install -e '.[ml]'.\n")
        return FAILED

    class Progress(tqdm):   # the bar goes to the same stream as the messages
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("file", out)
            kwargs["disable"] = False
            super().__init__(*args, **kwargs)

    kind = kind or kind_of(repo_id)
    out.write(f"Downloading {repo_id} into {hub_cache_dir()} ...\n")
    try:
        path = snapshot_download(repo_id, cache_dir=hub_cache_dir(), tqdm_class=Progress,
                                 allow_patterns=PAINTER_PATTERNS if kind == "painter"
                                 else DOWNLOAD_PATTERNS)
    except KeyboardInterrupt:
        out.write("\nDownload interrupted; run the same command again to resume.\n")
        return INTERRUPTED
    except hub_errors.GatedRepoError:
        out.write(f"'{repo_id}' is gated: accept its licence at https://huggingface.co/{repo_id} "
                  f"and log in with `hf auth login`, then try again.\n")
        return FAILED
    except hub_errors.RepositoryNotFoundError:
        out.write(f"No model '{repo_id}' on the Hugging Face Hub (or it is private). Check the "
                  f"id; `dreamreel models list` shows good choices.\n")
        return FAILED
    except (hub_errors.OfflineModeIsEnabled, hub_errors.LocalEntryNotFoundError,
            hub_errors.HfHubHTTPError, OSError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        out.write(f"Cannot download '{repo_id}': the Hugging Face Hub could not be reached "
                  f"({first}). Check your connection, or play with --narrator storylets.\n")
        return FAILED
    flag = {"painter": f"--painter diffusers:{repo_id}",
            "music": f"--music musicgen:{repo_id}",
            "voice": f"--read-aloud --voice transformers:{repo_id}"}.get(
        kind, f"--narrator transformers:{repo_id}")
    out.write(f"Done: {repo_id} is in {path}.\nPlay with it: {flag}\n")
    return OK


__all__ = ["ModelEntry", "RECOMMENDED", "list_models", "pull_model", "hub_cache_dir", "kind_of",
           "is_cached", "cached_repo_ids"]
