"""Persists the local stack's data between runs by pickling moto's in-memory backends (and restoring them on start).

What is pickled and how (moto's backends, its locks, threads and keys) is moto_patches' business; this module owns
the file: its format, where it is written, and when a snapshot is not used.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
from pathlib import Path
from typing import Any

from infrastructure.local import moto_patches

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


def save(path: Path, extra: dict[str, Any]) -> None:
    """Write every region backend of the stack's services, plus extra (checkpoints, ...), atomically to path."""
    buffer = io.BytesIO()
    moto_patches.BackendPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(
        {
            "format": FORMAT_VERSION,
            "moto": moto_patches.installed_version(),
            "backends": moto_patches.snapshot_backends(),
            "extra": extra,
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(buffer.getvalue())
    os.replace(temporary, path)


def restore(path: Path) -> dict[str, Any] | None:
    """Put a snapshot's backends back into moto; returns its extra data, or None when there is no usable snapshot."""
    if not path.exists():
        return None
    try:
        data = pickle.loads(path.read_bytes())  # noqa: S301 - our own file in the local state directory
    except Exception as error:
        logger.warning("ignoring unreadable snapshot %s (%s); starting from empty state", path, error)
        return None
    if data.get("format") != FORMAT_VERSION or data.get("moto") != moto_patches.installed_version():
        logger.warning("ignoring snapshot %s written by another moto version; starting from empty state", path)
        return None
    moto_patches.install_backends(data["backends"])
    extra: dict[str, Any] = data.get("extra") or {}
    extra["interrupted_executions"] = moto_patches.take_interrupted_executions()
    return extra
