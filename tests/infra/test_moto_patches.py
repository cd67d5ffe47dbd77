"""moto's internals are touched in one module, for one moto version, and any other version is refused loudly."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.local import moto_patches
from tools import lock

ROOT = Path(__file__).resolve().parents[2]
# moto's public API: anything else is an internal that belongs in infrastructure/local/moto_patches.py.
PUBLIC = {"moto": {"mock_aws"}, "moto.server": {"ThreadedMotoServer"}}
# The stack, the tooling and the fixtures every test relies on (tests of the patches themselves may reach in).
CHECKED = ["infrastructure", "tools", "tests/support", "tests/conftest.py", "tests/integration/conftest.py"]


@pytest.fixture
def other_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """moto 5.3.0 installed, as far as moto_patches can tell; yields the patches that ran."""
    ran: list[str] = []
    monkeypatch.setattr(moto_patches, "installed_version", lambda: "5.3.0")
    for name in ("_serialise_dynamodb", "_track_instances_weakly", "_run_programs_inline"):
        monkeypatch.setattr(moto_patches, name, lambda name=name: ran.append(name))
    moto_patches._require_checked.cache_clear()
    yield ran
    moto_patches._require_checked.cache_clear()


def test_apply_refuses_another_moto_version_before_patching_anything(other_moto: list[str]) -> None:
    with pytest.raises(moto_patches.MotoVersionError) as refused:
        moto_patches.apply()
    assert "written for moto 5.2.5" in str(refused.value)
    assert "moto 5.3.0 is installed" in str(refused.value)
    assert other_moto == []


def test_backend_reads_refuse_another_moto_version_too(other_moto: list[str]) -> None:
    with pytest.raises(moto_patches.MotoVersionError, match=re.escape("moto 5.3.0")):
        moto_patches.user_pools()
    with pytest.raises(moto_patches.MotoVersionError, match=re.escape("moto 5.3.0")):
        moto_patches.stream_shard("arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x")


def test_apply_patches_on_the_version_it_was_written_for(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    for name in ("_serialise_dynamodb", "_track_instances_weakly", "_run_programs_inline"):
        monkeypatch.setattr(moto_patches, name, lambda name=name: ran.append(name))
    moto_patches.apply()
    assert ran == ["_serialise_dynamodb", "_track_instances_weakly", "_run_programs_inline"]


def test_the_patches_are_written_for_the_locked_moto() -> None:
    locked = lock.read_lock()["moto"].version
    assert locked == moto_patches.WRITTEN_FOR, (
        f"the lock pins moto {locked}: re-check infrastructure/local/moto_patches.py against it, then set WRITTEN_FOR"
    )
    assert moto_patches.installed_version() == locked


def _moto_imports(path: Path) -> Iterator[tuple[int, str, set[str]]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "moto" or alias.name.startswith("moto."):
                    yield node.lineno, alias.name, {"*"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "moto":
            yield node.lineno, str(node.module), {alias.name for alias in node.names}


def test_only_moto_patches_reaches_into_moto() -> None:
    paths = [
        p for entry in CHECKED for p in ([ROOT / entry] if entry.endswith(".py") else (ROOT / entry).rglob("*.py"))
    ]
    assert len(paths) > 20
    problems = []
    for path in paths:
        if path == ROOT / "infrastructure" / "local" / "moto_patches.py":
            continue
        for line, module, names in _moto_imports(path):
            if not names <= PUBLIC.get(module, set()):
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {sorted(names)} from {module}")
    assert not problems, "moto internals outside infrastructure/local/moto_patches.py:\n" + "\n".join(problems)
