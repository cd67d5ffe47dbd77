"""What a handler's import may pull in: no utility, validator or context a function does not use on its cold path.

Not timed (figures are benchmarks/cold_start.py's job): each handler is imported as Lambda's init would, in a fresh
Lambda-like interpreter (tests/infra/test_template.py's environment, sys.path and layer-only guard), and the modules it
loaded are checked against a denylist of known heavy imports that no handler needs at import.
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.infra.test_template import LAYER_ONLY, FunctionSpec, function_specs, lambda_like_command

# Module (or package) -> why a handler must not import it.
DENYLIST = {
    # ~35 ms: asyncio, the parser's models of every event source, all event data classes; shared.batch does the loop.
    "aws_lambda_powertools.utilities.batch": "use shared.batch",
    "aws_lambda_powertools.utilities.parser": "pydantic models of every AWS event source",
    "aws_lambda_powertools.utilities.data_classes": "data classes of every AWS event source",
    "aws_lambda_powertools.event_handler": "Chalice routes the APIs; the resolver and its OpenAPI models are unused",
    "aws_lambda_powertools.utilities.idempotency": "imported on first use by shared.idempotency (builds a client)",
    "aws_lambda_powertools.utilities.feature_flags": "not used",
    "aws_lambda_powertools.utilities.parameters": "not used",
    "email_validator": "pydantic's EmailStr: shared.email checks the shape without it",
    "dns": "dnspython, pulled in by email-validator",
    "contracts.catalogue": "every context's contracts: tooling only",
}

PROBE = (
    LAYER_ONLY
    + r"""
import json
code_dir, opt_python, module_name = _sys.argv[1:4]
_sys.path[:0] = [code_dir, opt_python]
__import__(module_name)
print("LOADED " + json.dumps(sorted(_sys.modules)))
"""
)


def loaded_modules(spec: FunctionSpec, folder: Path) -> list[str] | None:
    """The modules the handler's import loaded; None when it does not import (test_template reports that)."""
    opt_python = spec.opt_python(folder)
    run = subprocess.run(
        lambda_like_command(PROBE, str(spec.code_dir), str(opt_python), spec.module),
        env=spec.process_env(),
        cwd=opt_python,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("LOADED ")]
    if run.returncode != 0 or not lines:
        return None
    return list(json.loads(lines[-1].removeprefix("LOADED ")))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    folder = tmp_path_factory.mktemp("opt")
    specs = function_specs()
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = dict(pool.map(lambda spec: (spec.logical_id, loaded_modules(spec, folder)), specs.values()))
    return {lid: modules for lid, modules in found.items() if modules is not None}


def test_no_handler_imports_a_denylisted_module(loaded: dict[str, list[str]]) -> None:
    problems = [
        f"{lid} imports {module} ({DENYLIST[denied]})"
        for lid, modules in loaded.items()
        for module in modules
        for denied in DENYLIST
        if module == denied or module.startswith(denied + ".")
    ]
    assert not problems, "\n".join(problems)


# The published contracts (contracts.<context>) each context's code may import: its own and those it consumes.
CONTRACTS_BY_CONTEXT = {
    "onboarding": {"onboarding", "tiers"},  # the profile shows the partner's tier
    "deals": {"deals", "onboarding", "tiers"},  # the automatic approval limit depends on the tier
    "mdf": {"mdf", "deals", "onboarding"},
    "training": {"training", "onboarding"},
    "tiers": {"tiers", "training", "deals", "onboarding"},
    # earning hears deals and training; its partner projection (a function of its own) onboarding and tiers
    "rewards": {"rewards", "deals", "training", "onboarding", "tiers"},
    "approvals": set(),  # generic: workflows send it plain messages
    # the library and kits; its consumer projects partners (onboarding) and tiers (tier changes, the ladder)
    "content": {"content", "onboarding", "tiers"},
}


def test_a_function_imports_only_the_contracts_its_context_uses(loaded: dict[str, list[str]]) -> None:
    specs = function_specs()
    problems = []
    for lid, modules in loaded.items():
        spec = specs[lid]
        if spec.handler.endswith(".outbox.handler"):
            # The publisher forwards the JSON the writer stored: no event models at all.
            allowed: set[str] = set()
            problems += [f"{lid} imports {m}" for m in modules if m == "shared.events"]
        else:
            allowed = CONTRACTS_BY_CONTEXT[spec.context]
        problems += [
            f"{lid} imports {m}"
            for m in modules
            if m.startswith("contracts.") and m.split(".")[1].split("_")[0] not in allowed  # <context>_* kits
        ]
    assert not problems, "\n".join(problems)


def test_an_api_that_only_checks_the_agreement_gate_imports_no_event_model(loaded: dict[str, list[str]]) -> None:
    """Deals' and MDF's APIs check the programme-agreement gate; the events that keep it are their consumers' work."""
    for lid in ("DealsApiFunction", "MdfApiFunction"):
        assert "contracts.onboarding_agreement_gate" in loaded[lid], lid
        assert "contracts.onboarding" not in loaded[lid], f"{lid} imports onboarding's event models"
        assert "contracts.onboarding_agreements" not in loaded[lid], lid
