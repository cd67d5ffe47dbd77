"""Every third-party package the tests, the local stack, the tooling or the benchmarks import is a pinned direct
dependency (requirements/dev.in or runtime.in), not something the lock happens to hold through another package."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = [ROOT / "requirements" / "dev.in", ROOT / "requirements" / "runtime.in"]
SCANNED = ["tests", "infrastructure", "tools", "benchmarks"]
# The repository's own packages, and the function code on pytest's pythonpath.
OWN = {"shared", "contracts", "tests", "infrastructure", "tools", "benchmarks", "app"} | {
    p.name for p in (ROOT / "functions").iterdir() if p.is_dir()
}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> dict[str, str]:
    """Normalised distribution name -> its pin, for every direct requirement."""
    pins = {}
    for path in REQUIREMENTS:
        for raw in path.read_text().splitlines():
            text = raw.split("#", 1)[0].strip()
            if text and not text.startswith("-"):
                name = re.split(r"[\[=<>!~; ]", text, maxsplit=1)[0]
                pins[_norm(name)] = text
    return pins


def top_level_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_every_imported_package_is_a_pinned_direct_requirement() -> None:
    pins = declared()
    assert all("==" in pin for pin in pins.values()), "direct requirements are pinned exactly"
    owners = metadata.packages_distributions()
    problems = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for top in sorted(top_level_imports(path) - OWN - set(sys.stdlib_module_names) - {"__future__"}):
                distributions = {_norm(owner) for owner in owners.get(top, [])}
                if not distributions & set(pins):
                    problems.append(f"{path.relative_to(ROOT)} imports {top} ({', '.join(distributions) or '?'})")
    assert not problems, "add these to requirements/dev.in (pinned) and run `make lock`:\n" + "\n".join(problems)
