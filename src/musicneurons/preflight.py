"""Checks made before any long work starts: option values, the torch device, the cache and output folders.

Each check raises a :class:`~musicneurons.errors.MusicNeuronsError` subclass whose one-line message
names the option (or setting, or file) and the problem; the command line prints it and exits with
status 1. :func:`positive_int` is an argparse ``type`` for count options (status 2, argparse's usage
line and then the one-line error).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .errors import DeviceError, OutputError

__all__ = ["positive_int", "check_device", "check_cache", "check_output_file", "CACHE_ENV"]

CACHE_ENV = "MUSICNEURONS_CACHE"


def positive_int(text: str) -> int:
    """argparse type of a count option: an integer >= 1 (``--n 0``, ``--n -1`` are refused)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def check_device(device: str, option: str = "--device") -> str:
    """Check that ``device`` is a torch device this machine has.

    Raises
    ------
    DeviceError
        For a malformed name, or CUDA / MPS asked for where torch cannot use it.
    """
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise DeviceError(f"{option} {device}: not a torch device ({exc})") from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(
                f"{option} {device}: CUDA is not available here (torch {torch.__version__}, "
                f"{'built without CUDA' if torch.version.cuda is None else 'no usable GPU'}); "
                f"use --device cpu"
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise DeviceError(f"{option} {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif parsed.type == "mps" and not torch.backends.mps.is_available():
        raise DeviceError(f"{option} {device}: Apple MPS is not available here; use --device cpu")
    elif parsed.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"{option} {device}: only cpu, cuda and mps devices are supported")
    return device


def check_cache() -> Path:
    """Check the cache root (``$MUSICNEURONS_CACHE`` or ``~/.cache/musicneurons``) is a writable folder.

    Raises
    ------
    OutputError
        When the variable is set but empty, or the folder is a file, cannot be created or is read-only.
    """
    from .melody.corpus import cache_dir
    from .rundir import check_writable_folder

    if os.environ.get(CACHE_ENV) is not None and not os.environ[CACHE_ENV].strip():
        raise OutputError(f"{CACHE_ENV} is set but empty; unset it (default ~/.cache/musicneurons) or name a folder")
    return check_writable_folder(cache_dir(), f"the cache folder ({CACHE_ENV})")


def check_output_file(path: str | Path, option: str = "--out") -> Path:
    """Check that a file can be written at ``path`` (its folder is created if needed).

    Raises
    ------
    OutputError
        When ``path`` is a folder, or its folder cannot be created or written.
    """
    from .rundir import check_writable_folder  # imports numpy: not at the top, which every command's options import

    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a folder; give a file name")
    check_writable_folder(path.parent if str(path.parent) else Path("."), option)
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{option} {path}: the file is read-only")
    return path
