"""Where model backends compute: the torch device and precision, and how many CPU threads.

Both the transformers narrator and the diffusers painter ask here, so a machine gets the same
choice whichever model runs: CUDA, then Apple MPS, then the CPU; fp32 on CPUs (half precision
without native support measured several times slower there), half precision on GPUs.

The pygame front end calls reserve_cores_for_ui() before any model loads; backends call
torch_threads() when they load and pass it to torch.set_num_threads. With a window open on a
CPU-only machine, models leave one core to the frame loop; in the terminal they may use all.
torch is imported only inside torch_device() and torch_dtype(), when a backend loads a model:
importing this module stays cheap.
"""

from __future__ import annotations

import os

_reserved = 0  # cores kept free for the user interface
DTYPE_NAMES = {"float32": "float32", "fp32": "float32", "bfloat16": "bfloat16",
               "bf16": "bfloat16", "float16": "float16", "fp16": "float16"}  # name -> torch's


def reserve_cores_for_ui(cores: int = 1) -> None:
    """Keep `cores` CPU cores out of the model backends' thread pools (the window calls this)."""
    global _reserved
    _reserved = max(0, int(cores))


def torch_threads() -> int:
    """Threads a CPU model backend should use: all cores, minus those reserved for the UI.
    DREAMREEL_TORCH_THREADS overrides it (e.g. 1 on a machine shared with other work)."""
    override = os.environ.get("DREAMREEL_TORCH_THREADS", "")
    if override.isdigit() and int(override) > 0:
        return int(override)
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    return max(1, available - _reserved)


def torch_device(requested: str | None = "auto") -> str:
    """The torch device a model should run on: the requested one, else the best available.

    Args:
        requested: "cpu", "cuda", "cuda:N", "mps"...; "auto", "" or None picks CUDA, then
            Apple MPS, then the CPU.
    """
    if requested and requested != "auto":
        return requested
    import torch  # noqa: PLC0415  (only a backend that loads a model gets here)

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def torch_dtype(device: str, requested: str | None = "auto", *, bf16: bool = True):
    """The precision a model should load in on device: fp32 on a CPU, half on a GPU.

    Args:
        device: a device from torch_device().
        requested: a name from DTYPE_NAMES, or "auto" (also "" or None) to choose by device.
        bf16: on a CUDA GPU that supports it, choose bfloat16 (wider range, the safer half for
            language models); False keeps float16 (what diffusion pipelines are tuned for).

    Returns:
        A torch.dtype.

    Raises:
        ValueError: an unknown precision name (the message lists the known ones).
    """
    if requested and requested != "auto" and requested not in DTYPE_NAMES:
        raise ValueError(f"Unknown dtype '{requested}'; use auto, {', '.join(DTYPE_NAMES)}.")
    import torch  # noqa: PLC0415

    if requested and requested != "auto":
        return getattr(torch, DTYPE_NAMES[requested])
    if device.startswith("cuda"):
        return torch.bfloat16 if bf16 and torch.cuda.is_bf16_supported() else torch.float16
    if device.startswith("mps"):
        return torch.float16
    return torch.float32
