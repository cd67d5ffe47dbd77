"""The layers: what `sam build` ships in each, and which layers each function lists.

The kernel layer ships `shared/` and its dependencies; each publishing context's contracts are a layer of their own
(`<Context>ContractsLayer`), so a change to one context's contracts redeploys only the functions that import them.
A function lists exactly the layers its code imports from: its handler module's import closure (deferred imports
included) through its own code, the kernel and the contracts. The handler probes in test_template.py then import every
handler with exactly its layers on sys.path.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from infrastructure.local.layers import KERNEL_LAYER, Layer, LayerConflictError, assemble, template_layers
from tests.infra.test_template import (
    ROOT,
    FunctionSpec,
    ProbeResult,
    function_specs,
    probe,
    probes_group,
    resources_of_type,
    template,
)


def layers() -> dict[str, Layer]:
    return template_layers(template()["Resources"], ROOT)


# ---------------------------------------------------------------------------------------------- what a build ships


@pytest.mark.parametrize("layer_id", sorted(resources_of_type(template(), "AWS::Serverless::LayerVersion")))
def test_each_layers_makefile_target_ships_exactly_what_the_local_stack_links(layer_id: str, tmp_path: Path) -> None:
    """Run `build-<LogicalId>` as `sam build` does (a scratch copy of ContentUri, ARTIFACTS_DIR in the environment);
    the kernel's `pip install` is switched off (PIP=:), its dependency pins are test_template.py's business."""
    layer = layers()[layer_id]
    scratch = tmp_path / "scratch"
    shutil.copytree(layer.content, scratch, ignore=shutil.ignore_patterns("__pycache__"))
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    run = subprocess.run(
        ["make", "--makefile", str(scratch / "Makefile"), f"build-{layer_id}", "PIP=:"],
        cwd=scratch,
        env={"PATH": os.environ["PATH"], "ARTIFACTS_DIR": str(artifacts)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, f"make build-{layer_id} failed:\n{run.stdout}\n{run.stderr}"
    python = artifacts / "python"
    built = {path.relative_to(python).as_posix() for path in python.rglob("*") if path.is_file()}
    assert built == set(layer.files()), f"{layer_id}: the Makefile and infrastructure/local/layers.py disagree"
    for relative, source in layer.files().items():
        assert (python / relative).read_bytes() == source.read_bytes(), relative


def test_the_kernel_ships_no_contracts_and_each_contracts_layer_one_context() -> None:
    found = layers()
    assert {module.split(".")[0] for module in found[KERNEL_LAYER].modules()} == {"shared"}
    contracts = {lid: layer for lid, layer in found.items() if lid != KERNEL_LAYER}
    assert contracts, "no contracts layers"
    for lid, layer in contracts.items():
        context = lid.removesuffix("ContractsLayer").lower()
        for own in layer.modules() - {"contracts"}:
            # one context's contracts and its consumer kits (<context>_*.py); the catalogue is tooling only
            assert own in {f"contracts.{context}"} or own.startswith(f"contracts.{context}_"), f"{lid} ships {own}"
            assert (ROOT / (own.replace(".", "/") + ".py")).is_file(), f"{lid} ships {own}, which does not exist"
    published = {p.stem for p in (ROOT / "contracts").glob("*.py")} - {"__init__", "catalogue"}
    shipped = {module.split(".")[1] for layer in contracts.values() for module in layer.modules() - {"contracts"}}
    assert shipped == published, "every published context's contracts (and kits) need a layer of their own"


def test_layers_that_merge_must_agree_on_the_files_they_share(tmp_path: Path) -> None:
    """Lambda extracts layers over each other: a shared path with different content would silently lose one."""
    for context, text in (("alpha", '"""alpha"""\n'), ("beta", '"""beta"""\n')):
        folder = tmp_path / context / "contracts"
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(text)
        (folder / f"{context}.py").write_text("")
    alpha = Layer("AlphaContractsLayer", tmp_path / "alpha" / "contracts")
    beta = Layer("BetaContractsLayer", tmp_path / "beta" / "contracts")
    with pytest.raises(LayerConflictError, match=re.escape("contracts/__init__.py")):
        assemble([alpha, beta], tmp_path / "opt")
    (tmp_path / "beta" / "contracts" / "__init__.py").write_text('"""alpha"""\n')
    python = assemble([alpha, beta], tmp_path / "opt")
    assert sorted(p.name for p in (python / "contracts").iterdir()) == ["__init__.py", "alpha.py", "beta.py"]


# ---------------------------------------------------------------------------------------------- which layers a function lists


def _type_checking_only(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Absolute names a module imports anywhere (deferred imports too; `if TYPE_CHECKING:` blocks do not run)."""
    found: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if _type_checking_only(node):
            stack.extend(node.orelse if isinstance(node, ast.If) else [])
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base = parts[: len(parts) - node.level + (1 if is_package else 0)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = str(node.module)
            found.add(origin)
            found |= {f"{origin}.{alias.name}" for alias in node.names}  # `from pkg import module`
        stack.extend(ast.iter_child_nodes(node))
    return found


@dataclass(frozen=True)
class Closure:
    """The project modules a handler can import: its own code's, and each layer module with the layers shipping it."""

    own: set[str]
    from_layers: dict[str, set[str]]  # module -> logical ids of the layers that ship it


def import_closure(spec: FunctionSpec, available: dict[str, Layer]) -> Closure:
    shipping: dict[str, set[str]] = {}
    for lid, layer in available.items():
        for name in layer.modules():
            shipping.setdefault(name, set()).add(lid)
    packages = {layer.package: layer.content for layer in available.values()}

    def source(name: str) -> tuple[Path, bool] | None:
        top, *rest = name.split(".")
        base = packages[top].parent if top in packages else spec.code_dir
        path = base.joinpath(top, *rest)
        if (path / "__init__.py").is_file():
            return path / "__init__.py", True
        if path.with_suffix(".py").is_file():
            return path.with_suffix(".py"), False
        return None

    own: set[str] = set()
    from_layers: dict[str, set[str]] = {}
    todo, seen = [spec.module], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found = source(name)
        if found is None:
            continue  # the standard library, a third-party package, or a name imported from a module
        if name.split(".")[0] in packages:
            from_layers[name] = shipping.get(name, set())
        else:
            own.add(name)
        path, is_package = found
        imported = _imports(ast.parse(path.read_text(encoding="utf-8")), name, is_package)
        parents = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        todo.extend(imported | parents)
    return Closure(own, from_layers)


def test_each_function_lists_exactly_the_layers_its_code_imports() -> None:
    available = layers()
    problems = []
    for lid, spec in function_specs().items():
        closure = import_closure(spec, available)
        listed = list(spec.layers)
        assert listed and listed[0] == KERNEL_LAYER, f"{lid}: the kernel layer comes first (Globals)"
        assert len(set(listed)) == len(listed), f"{lid} lists a layer twice: {listed}"
        for module, shipped_by in sorted(closure.from_layers.items()):
            if not shipped_by & set(listed):
                problems.append(f"{lid} imports {module}: add {' or '.join(sorted(shipped_by))} to its Layers")
        for layer_id in listed:
            # Needed when it alone ships a module the code imports (every contracts layer ships `contracts` itself).
            others = set(listed) - {layer_id}
            if not any(layer_id in by and not by & others for by in closure.from_layers.values()):
                problems.append(f"{lid} lists {layer_id} but imports nothing only it ships: remove it")
    assert not problems, "\n".join(problems)


def test_the_closure_follows_deferred_and_relative_imports_but_not_type_checking_ones(tmp_path: Path) -> None:
    code = tmp_path / "code"
    (code / "ctx").mkdir(parents=True)
    (code / "ctx" / "__init__.py").write_text("")
    (code / "ctx" / "handler.py").write_text(
        "from typing import TYPE_CHECKING\nfrom . import rules\nif TYPE_CHECKING:\n    import contracts.beta\n"
    )
    (code / "ctx" / "rules.py").write_text("def later():\n    from contracts import alpha\n")
    package = tmp_path / "contracts"
    package.mkdir()
    for name in ("__init__", "alpha", "beta"):
        (package / f"{name}.py").write_text("")
    available = {
        "AlphaContractsLayer": Layer("AlphaContractsLayer", package),
        "BetaContractsLayer": Layer("BetaContractsLayer", package),
    }
    spec = FunctionSpec("Fn", code, "ctx", "ctx.handler", "handler", {}, {}, layers=())
    closure = import_closure(spec, available)
    assert closure.own == {"ctx", "ctx.handler", "ctx.rules"}
    assert closure.from_layers == {
        "contracts": {"AlphaContractsLayer", "BetaContractsLayer"},
        "contracts.alpha": {"AlphaContractsLayer"},
    }


# ---------------------------------------------------------------------------------------------- a missing layer fails


@probes_group
def test_a_handler_without_a_contracts_layer_it_imports_does_not_import(tmp_path: Path) -> None:
    """The probes put exactly a function's layers on sys.path: drop one it imports and its handler must fail."""
    specs = function_specs()
    eager = {
        lid: spec
        for lid, spec in specs.items()
        if any(layer != KERNEL_LAYER for layer in spec.layers) and spec.module.endswith(".consumers")
    }
    assert eager, "no consumer lists a contracts layer"
    cases = [(spec, dropped) for spec in eager.values() for dropped in spec.layers if dropped != KERNEL_LAYER]

    def without(case: tuple[FunctionSpec, str]) -> ProbeResult:
        spec, dropped = case
        lacking = dataclasses.replace(spec, layers=tuple(layer for layer in spec.layers if layer != dropped))
        return probe(lacking, tmp_path / dropped)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for (spec, dropped), result in zip(cases, pool.map(without, cases), strict=True):
            context = dropped.removesuffix("ContractsLayer").lower()
            assert result.report is None, f"{spec.logical_id} imported without {dropped}"
            # `contracts` itself is missing when the dropped layer was the function's only contracts layer
            missing = (
                rf"No module named 'contracts(\.{context}\w*)?'|cannot import name '{context}\w*' from 'contracts'"
            )
            assert re.search(missing, result.stderr), result.stderr
