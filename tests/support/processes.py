"""Starting the local stack as `make dev` does, in a process of its own (for tests and benchmarks that stop it)."""

from __future__ import annotations

import sys
from pathlib import Path


def fresh_stack_command(*, port: int, moto_port: int, state_dir: Path) -> list[str]:
    """`python -m infrastructure.local start` on a fresh state directory, without demo data, on the given ports."""
    return [
        sys.executable,
        "-m",
        "infrastructure.local",
        "start",
        "--fresh",
        "--no-seed",
        f"--port={port}",
        f"--moto-port={moto_port}",
        f"--state-dir={state_dir}",
    ]
