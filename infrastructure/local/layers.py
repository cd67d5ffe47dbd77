"""What each layer of template.yaml puts under /opt/python, and a function's /opt/python built from its layers.

`sam build` builds a layer with the Makefile in its ContentUri (`BuildMethod: makefile`, target `build-<LogicalId>`).
The local stack, the tests and the cold-start benchmark link the same files instead of copying them, so an edit is
live; the kernel's third-party dependencies come from the venv. tests/infra/test_layers.py runs every Makefile
target and checks that it ships exactly the files `Layer.files()` names.

Lambda extracts a function's layers into /opt one after the other, so folders that several layers ship merge: every
contracts layer ships `contracts/__init__.py` (the same file) beside its own context's module.
"""

from __future__ import annotations

import filecmp
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KERNEL_LAYER = "SharedKernelLayer"
CONTRACTS_SUFFIX = "ContractsLayer"  # <Context>ContractsLayer ships contracts/<context>.py and <context>_*.py


class LayerConflictError(Exception):
    """Two layers of one function ship one path with different content: Lambda would keep only the last one."""


@dataclass(frozen=True)
class Layer:
    """One AWS::Serverless::LayerVersion built from a local folder."""

    logical_id: str
    content: Path  # the ContentUri folder: a package (shared/, contracts/) whose modules the layer ships

    @property
    def package(self) -> str:
        return self.content.name

    def files(self) -> dict[str, Path]:
        """Path under python/ -> the repository file it is built from (what the Makefile target copies)."""
        if self.logical_id.endswith(CONTRACTS_SUFFIX):
            context = self.logical_id.removesuffix(CONTRACTS_SUFFIX).lower()
            kits = sorted(path.name for path in self.content.glob(f"{context}_*.py"))  # consumer kits
            names = ["__init__.py", f"{context}.py", *kits]
        else:
            names = sorted(path.name for path in self.content.glob("*.py"))
        return {f"{self.package}/{name}": self.content / name for name in names}

    def modules(self) -> set[str]:
        """The dotted module names the layer makes importable (`contracts`, `contracts.deals`...)."""
        found = set()
        for relative in self.files():
            module = relative.removesuffix(".py").replace("/", ".")
            found.add(module.removesuffix(".__init__"))
        return found


def template_layers(resources: dict[str, dict[str, Any]], repo_root: Path) -> dict[str, Layer]:
    """Every layer of the template whose ContentUri is a local folder, by logical id."""
    layers = {}
    for logical_id, resource in resources.items():
        props = resource.get("Properties") or {}
        content = props.get("ContentUri")
        if resource.get("Type") == "AWS::Serverless::LayerVersion" and isinstance(content, str):
            layers[logical_id] = Layer(logical_id, (repo_root / content).resolve())
    return layers


def assemble(layers: Iterable[Layer], opt: Path) -> Path:
    """Link the layers' files under opt/python in order, as Lambda extracts them; returns opt/python.

    The folder is rebuilt from scratch (it holds links only), so a layer a function no longer lists leaves nothing.
    """
    python = opt / "python"
    if python.exists():
        shutil.rmtree(python)
    shipped_by: dict[str, Layer] = {}
    for layer in layers:
        for relative, source in layer.files().items():
            target = python / relative
            earlier = shipped_by.get(relative)
            if earlier is not None:
                if not filecmp.cmp(earlier.files()[relative], source, shallow=False):
                    raise LayerConflictError(
                        f"{earlier.logical_id} and {layer.logical_id} both ship {relative} with different content"
                    )
                continue
            shipped_by[relative] = layer
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)
    python.mkdir(parents=True, exist_ok=True)  # a function with no local layer still gets an (empty) /opt/python
    return python
