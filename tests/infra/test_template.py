"""Infrastructure checks on template.yaml: lint, offline SAM transform, handler env and routes, least privilege, ASL.

Fast and offline: no network, no moto server. The handler checks import each function in a fresh interpreter with the
function's own template environment and a Lambda-like sys.path; `benchmarks/cold_start.py` reuses those helpers.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from infrastructure.local.layers import assemble, template_layers
from infrastructure.local.template import load_template
from tools import lock

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "prm-dev",
}
# Routes that are deliberately reachable without a token; everything else must carry the Cognito authorizer.
PUBLIC_ROUTES = frozenset(
    {
        ("POST", "/applications"),
        ("GET", "/applications/{application_id}/confirmation"),  # the applicant's signed email confirmation link
        ("POST", "/applications/{application_id}/confirmation"),
        ("GET", "/approvals/{approval_id}"),
        ("POST", "/approvals/{approval_id}"),
        ("GET", "/mdf/proofs/{request_id}/{file_id}"),  # a reviewer's signed proof-file link
        ("GET", "/rewards/claims/{claim_id}/proofs/{file_id}/review"),  # a claim reviewer's signed proof-file link
        ("POST", "/training/webhooks/{connection_id}"),  # an LMS's Standard Webhooks delivery (signed per connection)
        ("POST", "/xapi/statements"),  # an LRS client's statements (HTTP Basic per connection)
    }
)
# What the Python Lambda runtime itself provides next to the layer (boto3 and its closure).
LAMBDA_RUNTIME_DISTRIBUTIONS = ("boto3",)
SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")

# The fast checks run in parallel workers; the handler probes share one worker so they run once.
probes_group = pytest.mark.xdist_group("infra_template_probes")


# ---------------------------------------------------------------------------------------------- template access


@cache
def _template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


def template() -> dict[str, Any]:
    """A private copy of the parsed template (intrinsics in long form)."""
    return copy.deepcopy(_template())


def resources_of_type(document: dict[str, Any], *types: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in document["Resources"].items() if res.get("Type") in types}


def _merge(base: Any, override: Any) -> Any:
    """SAM Globals semantics: maps merge, lists add up (globals first), scalars are overridden."""
    if isinstance(base, dict) and isinstance(override, dict) and not _is_intrinsic(override):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return [*base, *override]
    return override


def _is_intrinsic(node: Any) -> bool:
    return (
        isinstance(node, dict) and len(node) == 1 and (next(iter(node)) == "Ref" or next(iter(node)).startswith("Fn::"))
    )


def function_properties(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every AWS::Serverless::Function's properties with Globals.Function merged in."""
    global_props = (document.get("Globals") or {}).get("Function") or {}
    return {
        lid: _merge(global_props, res.get("Properties") or {})
        for lid, res in resources_of_type(document, "AWS::Serverless::Function").items()
    }


def referenced_ids(node: Any) -> set[str]:
    """Logical ids a piece of the template refers to through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= referenced_ids(item)
    elif isinstance(node, dict):
        if _is_intrinsic(node):
            key, value = next(iter(node.items()))
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".", 1)[0])
            elif key == "Fn::Sub":
                text, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
                found |= {m.split(".", 1)[0] for m in SUB_VARIABLE.findall(text) if m not in variables}
                found |= referenced_ids(variables)
            else:
                found |= referenced_ids(value)
        else:
            for value in node.values():
                found |= referenced_ids(value)
    return found


def arn_target(node: Any) -> str | None:
    """The logical id X of `!GetAtt X.Arn` (or `!Ref X`), else None."""
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        value = node["Fn::GetAtt"]
        return str(value[0] if isinstance(value, list) else value.split(".", 1)[0])
    if isinstance(node, dict) and "Ref" in node:
        return str(node["Ref"])
    return None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------------------------------------- placeholder values


class Placeholders:
    """Resolves intrinsics to plausible values of the right shape (names, ARNs, URLs), as a deployed stack would."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.parameters: dict[str, Any] = document.get("Parameters") or {}
        self.resources: dict[str, Any] = document["Resources"]

    def resolve(self, node: Any) -> Any:
        if _is_intrinsic(node):
            key, value = next(iter(node.items()))
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                logical_id, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                return self.sub(value)
            if key == "Fn::Join":
                delimiter, items = value
                joined = self.resolve(items)  # a CommaDelimitedList parameter's Ref is already its text here
                return joined if isinstance(joined, str) else delimiter.join(str(item) for item in joined)
            raise AssertionError(f"no placeholder for {key}: teach Placeholders about it")
        if isinstance(node, dict):
            return {k: self.resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self.resolve(v) for v in node]
        return node

    def ref(self, name: str) -> str:
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.parameters:
            default = self.parameters[name].get("Default")
            assert default is not None, f"parameter {name} has no Default: give it a placeholder here"
            return str(default)
        resource = self.resources.get(name)
        assert resource is not None, f"Ref to unknown logical id {name}"
        props = resource.get("Properties") or {}
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            return str(self.resolve(props.get("TableName", f"prm-dev-{name.lower()}")))
        if kind == "AWS::Events::EventBus":
            return str(self.resolve(props.get("Name", f"prm-dev-{name.lower()}")))
        by_type = {
            "AWS::Serverless::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:x",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:x",
            "AWS::SecretsManager::Secret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:x",
            "AWS::Cognito::UserPool": f"{REGION}_x0X0x0X0x",
            "AWS::Cognito::UserPoolClient": "x0x0x0x0x0x0x0x0x0x0x0x0x0",
            "AWS::SQS::Queue": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/x",
            "AWS::Serverless::Api": "x",
            "AWS::S3::Bucket": "x-bucket",
            "AWS::Serverless::Function": "x-function",
            "AWS::Scheduler::ScheduleGroup": "prm-dev-timers",
        }
        assert kind in by_type, f"no placeholder for Ref to a {kind} ({name})"
        return by_type[kind]

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource = self.resources.get(logical_id)
        assert resource is not None, f"GetAtt of unknown logical id {logical_id}"
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{self.ref(logical_id)}"
            return {"Arn": table, "StreamArn": f"{table}/stream/2024-01-01T00:00:00.000"}[attribute]
        if attribute in ("Arn", "QueueArn"):
            service = kind.split("::")[1].lower()
            return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{logical_id}"
        if attribute in ("Name", "QueueName"):
            return f"prm-dev-{logical_id.lower()}"
        raise AssertionError(f"no placeholder for {logical_id}.{attribute}")

    def sub(self, value: Any) -> str:
        text, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and name not in PSEUDO_PARAMETERS:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return SUB_VARIABLE.sub(replace, str(text)).replace("${!", "${")


# ---------------------------------------------------------------------------------------------- functions as Lambda runs them


@dataclass(frozen=True)
class FunctionSpec:
    """One AWS::Serverless::Function: its code, handler, layers, and its environment with placeholder values."""

    logical_id: str
    code_dir: Path
    context: str
    module: str
    attribute: str
    variables: dict[str, str]
    properties: dict[str, Any]
    layers: tuple[str, ...]  # logical ids, Globals' first, as Lambda extracts them into /opt

    @property
    def handler(self) -> str:
        return f"{self.module}.{self.attribute}"

    def opt_python(self, folder: Path) -> Path:
        """This function's /opt/python under folder: exactly its layers' files, as Lambda extracts them."""
        return lambda_opt_python(self.layers, folder / self.logical_id)

    def process_env(self) -> dict[str, str]:
        """The function's template variables plus what the Lambda runtime itself sets (no credentials, no PATH)."""
        runtime = {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": self.logical_id,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.properties.get("MemorySize", 128)),
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{self.properties.get('Runtime', 'python3.12')}",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",  # Lambda's is link-local; keep anything sent on loopback
            "LAMBDA_TASK_ROOT": str(self.code_dir),
            "_HANDLER": self.handler,
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
        }
        return runtime | self.variables


def function_specs(document: dict[str, Any] | None = None) -> dict[str, FunctionSpec]:
    document = document or template()
    placeholders = Placeholders(document)
    specs = {}
    for lid, props in function_properties(document).items():
        code_uri = props["CodeUri"]
        assert isinstance(code_uri, str), f"{lid}: CodeUri must be a local folder"
        module, _, attribute = str(props["Handler"]).rpartition(".")
        raw = (props.get("Environment") or {}).get("Variables") or {}
        variables = {name: str(placeholders.resolve(value)) for name, value in raw.items()}
        layers = tuple(str(arn_target(layer)) for layer in props.get("Layers") or [])
        specs[lid] = FunctionSpec(
            logical_id=lid,
            code_dir=ROOT / code_uri,
            context=Path(code_uri).name,
            module=module,
            attribute=attribute,
            variables=variables,
            properties=props,
            layers=layers,
        )
    return specs


def lambda_opt_python(layer_ids: Sequence[str], folder: Path) -> Path:
    """/opt/python built under folder from these template layers (links to the repository's files, nothing more)."""
    available = template_layers(_template()["Resources"], ROOT)
    return assemble([available[layer_id] for layer_id in layer_ids], folder)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(*names: str) -> set[str]:
    """The installed distributions `names` need, extras honoured."""
    wanted = [Requirement(n) for n in names]
    seen: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        key = _norm(requirement.name) + "[" + ",".join(sorted(requirement.extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        for text in metadata.requires(requirement.name) or []:
            dependency = Requirement(text)
            extras = {"", *requirement.extras}
            if dependency.marker is None or any(dependency.marker.evaluate({"extra": e}) for e in extras):
                wanted.append(dependency)
    return {key.split("[", 1)[0] for key in seen}


def deployed_distributions() -> set[str]:
    """What a function has at run time: the layer's pinned list (installed --no-deps) and the runtime's boto3."""
    return set(lock.read_layer()) | _closure(*LAMBDA_RUNTIME_DISTRIBUTIONS)


@cache
def not_deployed_top_levels() -> tuple[str, ...]:
    """Importable names in this venv (dev tools, Chalice's CLI dependencies...) that a deployed function lacks."""
    deployed = deployed_distributions()
    return tuple(
        sorted(
            top
            for top, owners in metadata.packages_distributions().items()
            if not {_norm(o) for o in owners} & deployed
        )
    )


# Prepended to every interpreter that stands in for Lambda: names the layer does not ship cannot be imported, as in
# Lambda (the X-Ray SDK, for one, patches `requests` only where it is importable).
LAYER_ONLY = r"""
import sys as _sys
_NOT_DEPLOYED = frozenset(_sys.argv.pop(1).split(","))
class _LayerOnly:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if path is None and name in _NOT_DEPLOYED:
            raise ModuleNotFoundError(f"No module named {name!r} (not shipped by the layer or the runtime)", name=name)
        return None
_sys.meta_path.insert(0, _LayerOnly)
"""

# Runs in a fresh `python -I` with the function's environment: imports the handler as the Lambda runtime would and
# reports which Settings models validated the environment and, for a Chalice app, its routes.
PROBE = (
    LAYER_ONLY
    + r"""
import importlib, json
code_dir, opt_python, module_name, attribute = _sys.argv[1:5]
_sys.path[:0] = [code_dir, opt_python]
from shared.settings import Settings
loaded = []
_from_env = Settings.__dict__["from_env"].__func__
def _recording_from_env(cls):
    settings = _from_env(cls)
    loaded.append({"model": f"{cls.__module__}.{cls.__qualname__}", "fields": sorted(cls.model_fields)})
    return settings
Settings.from_env = classmethod(_recording_from_env)
module = importlib.import_module(module_name)
handler = getattr(module, attribute)
report = {"callable": callable(handler), "settings": loaded, "routes": None, "debug": None}
if type(handler).__name__ == "Chalice":
    report["debug"] = bool(handler.debug)
    report["routes"] = [
        {"path": path, "method": method, "authorizer": getattr(entry.authorizer, "name", entry.authorizer)}
        for path, methods in handler.routes.items() for method, entry in methods.items()
    ]
print("PROBE " + json.dumps(report))
"""
)


def lambda_like_command(code: str, *args: str) -> list[str]:
    """`python -I -c code` with the layer-only import guard armed (`code` must start with LAYER_ONLY)."""
    return [sys.executable, "-I", "-c", code, ",".join(not_deployed_top_levels()), *args]


@dataclass(frozen=True)
class ProbeResult:
    returncode: int
    report: dict[str, Any] | None
    stderr: str


def probe(spec: FunctionSpec, folder: Path) -> ProbeResult:
    """Import spec's handler in a Lambda-like interpreter whose /opt/python (built under folder) has exactly its layers."""
    opt_python = spec.opt_python(folder)
    run = subprocess.run(
        lambda_like_command(PROBE, str(spec.code_dir), str(opt_python), spec.module, spec.attribute),
        env=spec.process_env(),
        cwd=opt_python,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("PROBE ")]
    report = json.loads(lines[-1].removeprefix("PROBE ")) if lines and run.returncode == 0 else None
    return ProbeResult(run.returncode, report, run.stderr[-4000:])


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def specs() -> dict[str, FunctionSpec]:
    return function_specs()


@pytest.fixture(scope="module")
def probes(specs: dict[str, FunctionSpec], tmp_path_factory: pytest.TempPathFactory) -> dict[str, ProbeResult]:
    folder = tmp_path_factory.mktemp("opt")
    with ThreadPoolExecutor(max_workers=len(specs)) as pool:
        results = pool.map(lambda spec: (spec.logical_id, probe(spec, folder)), specs.values())
        return dict(results)


def _report(probes: dict[str, ProbeResult], function_id: str) -> dict[str, Any]:
    result = probes[function_id]
    assert result.report is not None, f"{function_id} did not import (exit {result.returncode}):\n{result.stderr}"
    return result.report


# ---------------------------------------------------------------------------------------------- 1. cfn-lint


def test_cfn_lint_passes() -> None:
    # cfn-lint 1.58 has no `__main__`; call its console entry point with this interpreter.
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())", str(TEMPLATE_PATH)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, f"cfn-lint failed (exit {run.returncode}):\n{run.stdout}\n{run.stderr}"


# ---------------------------------------------------------------------------------------------- 2. SAM transform


class _StubPolicyLoader:
    """The transform asks for AWS managed policy ARNs only for policies named by string; the template names none."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    try:
        from samtranslator.model.exceptions import InvalidDocumentException
        from samtranslator.translator.transform import transform
    except ImportError:  # cfn-lint 1.58 no longer pulls it in
        pytest.fail("aws-sam-translator is not installed: pin aws-sam-translator==1.115.0 in requirements/dev.in")

    document = template()
    for resource in document["Resources"].values():
        props = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = "s3://bucket/key"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setenv("AWS_REGION", REGION)
        try:
            return dict(transform(document, {}, _StubPolicyLoader()))
        except InvalidDocumentException as error:
            causes = "\n".join(str(cause) for cause in error.causes)
            pytest.fail(f"SAM transform rejected the template:\n{causes}")


def api_routes(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, path) -> {function, auth, api} for every Api event in the template."""
    routes: dict[tuple[str, str], dict[str, Any]] = {}
    apis = resources_of_type(document, "AWS::Serverless::Api")
    for lid, props in function_properties(document).items():
        for name, event in (props.get("Events") or {}).items():
            if event.get("Type") != "Api":
                continue
            ep = event.get("Properties") or {}
            api_id = arn_target(ep.get("RestApiId"))
            assert api_id in apis, (
                f"{lid}.{name}: every Api event needs RestApiId of the template's API "
                "(else SAM creates an implicit ServerlessRestApi without the authorizer)"
            )
            default = ((apis[api_id].get("Properties") or {}).get("Auth") or {}).get("DefaultAuthorizer", "NONE")
            key = (str(ep["Method"]).upper(), str(ep["Path"]))
            assert key not in routes, f"{key} is declared twice: {routes.get(key)} and {lid}.{name}"
            routes[key] = {
                "function": lid,
                "event": name,
                "api": api_id,
                "auth": (ep.get("Auth") or {}).get("Authorizer", default),
            }
    return routes


def test_sam_transform_produces_the_functions_api_and_workflows(transformed: dict[str, Any]) -> None:
    document = template()
    out = transformed["Resources"]
    out_types = {lid: res["Type"] for lid, res in out.items()}
    assert not [lid for lid, kind in out_types.items() if kind.startswith("AWS::Serverless::")]

    for lid, props in function_properties(document).items():
        assert out_types.get(lid) == "AWS::Lambda::Function", lid
        assert out_types.get(f"{lid}Role") == "AWS::IAM::Role", lid
        fn = out[lid]["Properties"]
        assert fn["Handler"] == props["Handler"]
        assert fn["Runtime"] == props["Runtime"]
        assert fn["TracingConfig"] == {"Mode": "Active"}
        layer_ids = {arn_target(layer) for layer in fn.get("Layers", [])}
        assert any(
            str(i).startswith("SharedKernelLayer") and out_types.get(str(i)) == "AWS::Lambda::LayerVersion"
            for i in layer_ids
        )
        for name, event in (props.get("Events") or {}).items():
            expected = {
                "SQS": "AWS::Lambda::EventSourceMapping",
                "DynamoDB": "AWS::Lambda::EventSourceMapping",
                "Api": "AWS::Lambda::Permission",
            }[event["Type"]]
            suffix = "PermissionStage" if event["Type"] == "Api" else ""
            assert out_types.get(f"{lid}{name}{suffix}") == expected, f"{lid}.{name}"

    for lid in resources_of_type(document, "AWS::Serverless::StateMachine"):
        assert out_types.get(lid) == "AWS::StepFunctions::StateMachine"
        assert out_types.get(f"{lid}Role") == "AWS::IAM::Role"

    for api_id in resources_of_type(document, "AWS::Serverless::Api"):
        assert out_types.get(api_id) == "AWS::ApiGateway::RestApi"
        stages = [
            r
            for r in out.values()
            if r["Type"] == "AWS::ApiGateway::Stage" and arn_target(r["Properties"]["RestApiId"]) == api_id
        ]
        deployments = [
            r
            for r in out.values()
            if r["Type"] == "AWS::ApiGateway::Deployment" and arn_target(r["Properties"]["RestApiId"]) == api_id
        ]
        assert len(stages) == 1
        assert len(deployments) == 1


def test_sam_transform_renders_each_route_with_its_function_and_auth(transformed: dict[str, Any]) -> None:
    routes = api_routes(template())
    (api_id,) = {route["api"] for route in routes.values()}  # one REST API for every context (DESIGN.md section 2)
    body = transformed["Resources"][api_id]["Properties"]["Body"]
    rendered = {
        (method.upper(), path): operation
        for path, operations in body["paths"].items()
        for method, operation in operations.items()
        if method != "options"
    }
    assert set(rendered) == set(routes)
    for key, route in routes.items():
        operation = rendered[key]
        assert operation["security"] == [{route["auth"]: []}], key
        uri = json.dumps(operation["x-amazon-apigateway-integration"]["uri"])
        assert f"${{{route['function']}.Arn}}" in uri, f"{key} is not integrated with {route['function']}"
    authorizer = body["securityDefinitions"]["CognitoAuthorizer"]
    assert authorizer["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    # CORS preflights must answer without a token, from API Gateway itself (mock integration).
    for path, operations in body["paths"].items():
        if "options" in operations:
            assert operations["options"].get("security") in (None, [], [{"NONE": []}]), path
            assert operations["options"]["x-amazon-apigateway-integration"]["type"] == "mock", path


# ---------------------------------------------------------------------------------------------- 3. handlers import with their env


@probes_group
def test_every_handler_imports_with_exactly_its_template_environment(probes: dict[str, ProbeResult]) -> None:
    failures = {
        lid: f"exit {result.returncode}:\n{result.stderr}" for lid, result in probes.items() if result.report is None
    }
    assert not failures, "handlers that do not import with their template environment:\n" + "\n".join(
        f"--- {lid} {why}" for lid, why in failures.items()
    )
    for lid, result in probes.items():
        assert result.report is not None
        assert result.report["callable"], f"{lid}: the handler attribute is not callable"


# Variables a library reads itself (documented switches, not settings of ours).
LIBRARY_VARIABLES = {"PYDANTIC_DISABLE_PLUGINS"}


@probes_group
def test_every_declared_variable_is_read_and_every_setting_is_declared(
    specs: dict[str, FunctionSpec], probes: dict[str, ProbeResult]
) -> None:
    from aws_lambda_powertools.shared import constants

    powertools_names = {v for v in vars(constants).values() if isinstance(v, str) and v.startswith("POWERTOOLS_")}
    problems = []
    for lid, spec in specs.items():
        report = _report(probes, lid)
        fields = {field.upper() for model in report["settings"] for field in model["fields"]}
        declared = set(spec.variables)
        for name in sorted(declared - fields):
            if name in LIBRARY_VARIABLES:
                continue
            if name.startswith("POWERTOOLS_"):
                if name not in powertools_names:
                    problems.append(f"{lid}: {name} is not a variable Powertools reads")
            else:
                problems.append(f"{lid}: {name} is declared but no Settings model it loads reads it")
        for name in sorted(fields - declared):
            problems.append(f"{lid}: setting {name.lower()} has no template variable (a hidden default)")
    assert not problems, "\n".join(problems)


def _imported_top_levels(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".", 1)[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".", 1)[0], node.lineno


def test_layers_build_with_sam_and_pin_what_the_tests_run() -> None:
    document = template()
    for lid, layer in resources_of_type(document, "AWS::Serverless::LayerVersion").items():
        if ((layer.get("Metadata") or {}).get("BuildMethod")) != "makefile":
            continue
        makefile = ROOT / layer["Properties"]["ContentUri"] / "Makefile"
        assert makefile.is_file(), f"{lid}: BuildMethod makefile needs {makefile.relative_to(ROOT)}"
        assert re.search(rf"^build-{lid}:", makefile.read_text(), re.MULTILINE), f"{makefile}: no build-{lid} target"
    # One lock: the layer's file is generated from it, and this venv (what the tests run) installed it.
    locked = lock.read_lock()
    layer = lock.read_layer()
    assert lock.LAYER_REQUIREMENTS.read_text() == lock.render_layer(lock.layer_pins(locked, lock.runtime_roots())), (
        "shared/layer-requirements.txt differs from requirements/dev.lock: run `python -m tools.lock`"
    )
    for name, pin in layer.items():
        assert name in locked, f"the layer ships {name}, which the lock lacks"
        assert pin.version == locked[name].version, (
            f"the layer ships {name} {pin.version}; the lock has {locked[name].version}"
        )
        assert pin.hashes and set(pin.hashes) == set(locked[name].hashes), (
            f"{name}: the layer's hashes are not the lock's"
        )
    for name, pin in locked.items():
        assert pin.hashes, f"{name} is locked without hashes"
        assert metadata.version(name) == pin.version, (
            f"the lock pins {name} {pin.version}; the tests run {metadata.version(name)} (run `make venv`)"
        )
    for name in lock.runtime_roots():
        assert name in layer, f"{name} is a runtime dependency the layer lacks"
    makefile = (ROOT / "shared" / "Makefile").read_text()
    assert "--require-hashes" in makefile and "--no-deps" in makefile, "the layer must install exactly its hashed pins"


def test_the_lock_parser_reads_multi_line_via_blocks_and_hashes(tmp_path: Path) -> None:
    sample = tmp_path / "dev.lock"
    sample.write_text(
        "alpha==1.0 \\\n    --hash=sha256:" + "a" * 64 + " \\\n    --hash=sha256:" + "b" * 64 + "\n"
        "    # via -r runtime.in\n"
        "beta-pkg==2.0 \\\n    --hash=sha256:" + "c" * 64 + "\n"
        "    # via\n    #   alpha\n    #   gamma\n"
        "gamma==3.0 \\\n    --hash=sha256:" + "d" * 64 + "\n    # via -r runtime.in\n"
        "boto3==1.0 \\\n    --hash=sha256:" + "e" * 64 + "\n    # via gamma\n"
        "botocore==1.0 \\\n    --hash=sha256:" + "f" * 64 + "\n    # via boto3\n"
    )
    pins = lock.read_lock(sample)
    assert pins["alpha"].hashes == ["sha256:" + "a" * 64, "sha256:" + "b" * 64]
    assert pins["beta-pkg"].required_by == {"alpha", "gamma"}
    shipped = [pin.name for pin in lock.layer_pins(pins, ["alpha", "gamma"])]
    assert shipped == ["alpha", "beta-pkg", "gamma"], "boto3 and what only it needs come from the Lambda runtime"


def test_function_code_imports_only_what_the_layer_and_runtime_ship(specs: dict[str, FunctionSpec]) -> None:
    """The venv holds dev tools (moto, requests, yaml...) that Lambda will not have: the code must not lean on them."""
    shipped = deployed_distributions()
    owners = {top: {_norm(d) for d in dists} for top, dists in metadata.packages_distributions().items()}
    problems = []
    layers = template_layers(_template()["Resources"], ROOT)
    packages = {layer.package for layer in layers.values()}  # shared, contracts: test_layers.py checks who lists them
    for code_dir in sorted({spec.code_dir for spec in specs.values()} | {layer.content for layer in layers.values()}):
        local = {p.name for p in code_dir.iterdir() if p.is_dir() or p.suffix == ".py"} | {
            p.stem for p in code_dir.glob("*.py")
        }
        shipped_files = {
            path for layer in layers.values() if layer.content == code_dir for path in layer.files().values()
        }
        for path in sorted(code_dir.rglob("*.py")):
            if shipped_files and path not in shipped_files:
                continue  # tooling beside a layer's modules (contracts/catalogue.py) ships nowhere
            for top, line in _imported_top_levels(path):
                if top in sys.stdlib_module_names or top in local or top in packages | {"__future__"}:
                    continue
                if not owners.get(top, set()) & shipped:
                    problems.append(f"{path.relative_to(ROOT)}:{line} imports {top}, which the layer does not ship")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------- 4. API routes


@probes_group
def test_template_routes_equal_each_chalice_apps_routes(probes: dict[str, ProbeResult]) -> None:
    routes = api_routes(template())
    declared: dict[str, set[tuple[str, str, str]]] = {}
    for (method, path), route in routes.items():
        declared.setdefault(route["function"], set()).add((method, path, route["auth"]))
    for lid in declared:
        assert _report(probes, lid)["routes"] is not None, f"{lid} has Api events but its handler is not a Chalice app"
    apps = {lid for lid, result in probes.items() if result.report and result.report["routes"] is not None}
    owners: dict[tuple[str, str], str] = {}
    for lid in sorted(apps):
        report = _report(probes, lid)
        assert report["debug"] is False, f"{lid}: app.debug must be False in a deployed Chalice app"
        in_app = {(r["method"], r["path"]) for r in report["routes"]}
        for r in report["routes"]:
            # Auth lives in the template only; a Chalice authorizer would not be enforced behind API Gateway's.
            assert r["authorizer"] is None, f"{lid} {r['method']} {r['path']} declares a Chalice authorizer"
            assert (r["method"], r["path"]) not in owners, (
                f"{r['method']} {r['path']} is served by {owners[(r['method'], r['path'])]} and {lid}"
            )
            owners[(r["method"], r["path"])] = lid
        in_template = {(m, p) for m, p, _ in declared.get(lid, set())}
        assert in_app == in_template, (
            f"{lid}: routes only in the app {sorted(in_app - in_template)}; "
            f"only in the template {sorted(in_template - in_app)}"
        )


def test_private_routes_carry_the_cognito_authorizer_and_public_ones_opt_out() -> None:
    document = template()
    routes = api_routes(document)
    for api_id, api in resources_of_type(document, "AWS::Serverless::Api").items():
        auth = (api.get("Properties") or {}).get("Auth") or {}
        default = auth.get("DefaultAuthorizer")
        assert default, f"{api_id} needs a default authorizer"
        assert "UserPoolArn" in auth["Authorizers"][default], f"{api_id}: the default authorizer must be Cognito"
        assert auth.get("AddDefaultAuthorizerToCorsPreflight") is False, "CORS preflights cannot carry a token"
    assert set(PUBLIC_ROUTES) <= set(routes), f"public routes missing from the template: {PUBLIC_ROUTES - set(routes)}"
    for key, route in routes.items():
        if key in PUBLIC_ROUTES:
            assert route["auth"] == "NONE", f"{key} is public and must say Auth: {{Authorizer: NONE}}"
        else:
            assert route["auth"] == "CognitoAuthorizer", f"{key} must carry the Cognito authorizer, not {route['auth']}"


def test_public_routes_are_throttled_harder_than_the_stage() -> None:
    document = template()
    routes = api_routes(document)
    for key in sorted(PUBLIC_ROUTES):
        method, path = key
        api = resources_of_type(document, "AWS::Serverless::Api")[routes[key]["api"]]
        settings = (api.get("Properties") or {}).get("MethodSettings") or []
        stage_wide = next(s for s in settings if s.get("ResourcePath") == "/*" and s.get("HttpMethod") == "*")
        resource_path = "/" + path.replace("/", "~1")
        entry = [s for s in settings if s.get("ResourcePath") == resource_path and s.get("HttpMethod") == method]
        assert len(entry) == 1, f"{method} {path} needs one MethodSettings entry with ResourcePath {resource_path}"
        assert 0 < entry[0]["ThrottlingRateLimit"] < stage_wide["ThrottlingRateLimit"], key
        assert 0 < entry[0]["ThrottlingBurstLimit"] < stage_wide["ThrottlingBurstLimit"], key
        # a modest overall ceiling on anonymous routes; each client's own limit is a WAF rule (ApiWebAcl)
        assert entry[0]["ThrottlingRateLimit"] <= 5 and entry[0]["ThrottlingBurstLimit"] <= 20, key


# ---------------------------------------------------------------------------------------------- 5. least privilege and async wiring


def policy_statements(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(owner logical id, statement) for every IAM statement anywhere in the template (identity and resource policies)."""

    def walk(owner: str, node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            statements = node.get("Statement")
            if isinstance(statements, list) and all(isinstance(s, dict) for s in statements):
                for statement in statements:
                    if "Effect" in statement:
                        yield owner, statement
            for key, value in node.items():
                if key != "Statement":
                    yield from walk(owner, value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(owner, item)

    for lid, resource in document["Resources"].items():
        yield from walk(lid, resource.get("Properties") or {})


def test_sam_policies_are_inline_statements_only() -> None:
    """Named managed policies and SAM policy templates (DynamoDBCrudPolicy grants Scan) escape the checks below."""
    document = template()
    for lid, resource in resources_of_type(
        document, "AWS::Serverless::Function", "AWS::Serverless::StateMachine"
    ).items():
        for policy in as_list((resource.get("Properties") or {}).get("Policies") or []):
            assert isinstance(policy, dict) and set(policy) <= {"Version", "Statement"}, f"{lid}: {policy!r}"


# What a state machine's role needs to deliver its logs to CloudWatch Logs (Step Functions developer guide, "IAM
# policies for logging to CloudWatch Logs"): these actions take no resource-level permissions, so only `*`.
LOG_DELIVERY_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def test_no_wildcard_actions_or_resources() -> None:
    document = template()
    logging_machines = {
        lid
        for lid, machine in resources_of_type(document, "AWS::Serverless::StateMachine").items()
        if (machine.get("Properties") or {}).get("Logging")
    }
    problems = []
    for owner, statement in policy_statements(document):
        assert "NotAction" not in statement and "NotResource" not in statement, f"{owner}: {statement}"
        if statement.get("Effect") == "Deny":
            continue  # a wildcard in a Deny narrows access (e.g. s3:* without TLS), it grants nothing
        actions = {str(action) for action in as_list(statement.get("Action", []))}
        for action in actions:
            if "*" in action:
                problems.append(f"{owner}: Action {action}")
        if owner in logging_machines and actions <= LOG_DELIVERY_ACTIONS:
            continue  # a logging state machine's log delivery: `*` is the only resource these actions take
        for resource in as_list(statement.get("Resource", [])):
            if resource == "*":
                problems.append(f"{owner}: Resource * for {statement.get('Action')}")
    assert not problems, "\n".join(problems)


def test_dynamodb_access_never_scans_and_stays_in_the_functions_context(specs: dict[str, FunctionSpec]) -> None:
    document = template()
    tables = resources_of_type(document, "AWS::DynamoDB::Table")
    problems = []
    for owner, statement in policy_statements(document):
        actions = [str(a) for a in as_list(statement.get("Action", []))]
        dynamo = [a for a in actions if a.lower().startswith("dynamodb:")]
        if not dynamo:
            continue
        scanning = [a for a in dynamo if a.lower() in {"dynamodb:scan", "dynamodb:partiqlselect"}]
        if scanning:
            problems.append(f"{owner}: {scanning}")
        if owner not in specs:
            continue
        prefix = specs[owner].context.capitalize()
        own = {t for t in tables if t.startswith(prefix)}
        assert own, f"{owner}: no table named {prefix}* for its context {specs[owner].context}"
        named = referenced_ids(statement.get("Resource"))
        if not named or not named <= own:
            problems.append(f"{owner} ({specs[owner].context}) reaches {sorted(named - own) or 'no named table'}")
    assert not problems, "\n".join(problems)


# What shared/identity.cognito_lookup calls: the user (exists, enabled, partner) and their groups (roles) now.
LIVE_IDENTITY_ACTIONS = ("cognito-idp:AdminGetUser", "cognito-idp:AdminListGroupsForUser")


def test_functions_behind_the_authorizer_check_the_user_is_live_with_adminget_on_the_pool_only() -> None:
    """A verified token is not enough (DESIGN.md 6b): each such function looks its user and their groups up
    (shared/identity.py), with exactly the calls it makes and on the pool only."""
    document = template()
    pools = set(resources_of_type(document, "AWS::Cognito::UserPool"))
    guarded = {route["function"] for route in api_routes(document).values() if route["auth"] != "NONE"}
    assert guarded
    properties = function_properties(document)
    problems = []
    for lid in sorted(guarded):
        variables = (properties[lid].get("Environment") or {}).get("Variables") or {}
        if arn_target(variables.get("USER_POOL_ID")) not in pools:
            problems.append(f"{lid}: USER_POOL_ID must name the user pool")
        recheck = arn_target(variables.get("IDENTITY_RECHECK_SECONDS"))
        parameter = (document.get("Parameters") or {}).get(str(recheck)) or {}
        if not parameter or not 0 <= int(parameter.get("MaxValue", 10**6)) <= 60:
            problems.append(f"{lid}: IDENTITY_RECHECK_SECONDS must be a parameter of at most 60 seconds")
        for action in LIVE_IDENTITY_ACTIONS:
            lookups = [
                statement
                for owner, statement in policy_statements(document)
                if owner == lid and action in as_list(statement.get("Action"))
            ]
            resources = [resource for statement in lookups for resource in as_list(statement.get("Resource"))]
            if not resources or any(arn_target(r) not in pools or "Fn::GetAtt" not in r for r in resources):
                problems.append(f"{lid}: needs {action} on the user pool's Arn, and nothing wider")
    calls = {
        f"cognito-idp:{name.title().replace('_', '')}"
        for name in re.findall(r"cognito\.(admin_\w+)\(", (ROOT / "shared" / "identity.py").read_text())
    }
    if calls != set(LIVE_IDENTITY_ACTIONS):
        problems.append(f"shared/identity.py calls {sorted(calls)}; the policy test expects {LIVE_IDENTITY_ACTIONS}")
    granted = {
        owner
        for owner, statement in policy_statements(document)
        if "cognito-idp:AdminListGroupsForUser" in as_list(statement.get("Action"))
    }
    if granted - guarded:  # least privilege: only the functions that check their callers
        problems.append(f"AdminListGroupsForUser is granted to {sorted(granted - guarded)} too")
    assert not problems, "\n".join(problems)


def test_portal_tokens_are_short_lived_and_refresh_tokens_revocable() -> None:
    """A global sign-out revokes refresh tokens; ID tokens API Gateway accepts must then expire soon."""
    minutes = {"seconds": 1 / 60, "minutes": 1, "hours": 60, "days": 24 * 60}
    for lid, client in resources_of_type(template(), "AWS::Cognito::UserPoolClient").items():
        props = client.get("Properties") or {}
        units = props.get("TokenValidityUnits") or {}
        for kind in ("IdToken", "AccessToken"):
            lifetime = float(props.get(f"{kind}Validity", 60)) * minutes[units.get(kind, "minutes")]
            assert lifetime <= 5, f"{lid}: {kind} lives {lifetime} minutes (at most 5)"
        assert props.get("EnableTokenRevocation") is True, lid
        assert "ALLOW_REFRESH_TOKEN_AUTH" in props.get("ExplicitAuthFlows", []), f"{lid}: the portal refreshes"


def test_put_events_is_conditioned_on_the_source_and_callbacks_on_named_machines() -> None:
    machines = set(resources_of_type(template(), "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"))
    for owner, statement in policy_statements(template()):
        actions = {str(a).lower() for a in as_list(statement.get("Action", []))}
        if "events:putevents" in actions:
            conditions = statement.get("Condition") or {}
            keys = {key.lower() for operator in conditions.values() for key in operator}
            assert "events:source" in keys, f"{owner}: events:PutEvents without a Condition on events:source"
        if actions & {"states:sendtasksuccess", "states:sendtaskfailure", "states:sendtaskheartbeat"}:
            resources = as_list(statement.get("Resource"))
            assert "*" not in resources, f"{owner}: task callbacks on *"
            assert all(arn_target(r) in machines for r in resources), f"{owner}: callbacks must name state machines"


GATEWAY_ERROR_CODES = {
    "UNAUTHORIZED": (401, "unauthorized"),
    "ACCESS_DENIED": (403, "forbidden"),
    "WAF_FILTERED": (403, "request_blocked"),
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found"),
    "RESOURCE_NOT_FOUND": (404, "not_found"),
    "REQUEST_TOO_LARGE": (413, "payload_too_large"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported_media_type"),
    "THROTTLED": (429, "throttled"),
    "QUOTA_EXCEEDED": (429, "throttled"),
}


def test_the_gateways_own_refusals_each_say_what_happened() -> None:
    """DEFAULT_4XX labels whatever it catches `bad_request`: a WAF block, a 413 or a 415 must not be among them."""
    responses = template()["Resources"]["PrmApi"]["Properties"]["GatewayResponses"]
    for response_type, (status, code) in GATEWAY_ERROR_CODES.items():
        assert response_type in responses, f"{response_type} falls back to DEFAULT_4XX"
        response = responses[response_type]
        assert response.get("StatusCode") == status, response_type
        body = response["ResponseTemplates"]["application/json"].replace("$context.error.messageString", '"text"')
        assert json.loads(body)["code"] == code, response_type
        assert "Access-Control-Allow-Origin" in response["ResponseParameters"]["Headers"], response_type


def test_every_pass_role_names_the_role_and_the_service_it_is_passed_to() -> None:
    """iam:PassRole without iam:PassedToService lets a function hand the role to any service that accepts it."""
    found = 0
    for owner, statement in policy_statements(template()):
        actions = {str(a).lower() for a in as_list(statement.get("Action", []))}
        if statement.get("Effect") != "Allow" or not actions & {"iam:passrole", "iam:*"}:
            continue
        found += 1
        assert "*" not in as_list(statement.get("Resource")), f"{owner}: iam:PassRole on *"
        passed_to = [
            value
            for operator, keys in (statement.get("Condition") or {}).items()
            if operator in {"StringEquals", "ForAllValues:StringEquals"}
            for key, value in keys.items()
            if key.lower() == "iam:passedtoservice"
        ]
        assert passed_to and all("*" not in str(v) for v in passed_to), (
            f"{owner}: iam:PassRole needs Condition StringEquals iam:PassedToService: {statement}"
        )
    assert found >= 5  # onboarding, deals, MDF, training and tiers pass the timer scheduler's role


# What a function's role must be allowed to do with each kind of resource its environment names (one action suffices).
USES_BY_TYPE = {
    "AWS::DynamoDB::Table": {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"},
    "AWS::S3::Bucket": {"s3:GetObject", "s3:PutObject"},
    "AWS::Serverless::StateMachine": {"states:StartExecution"},
    "AWS::SecretsManager::Secret": {"secretsmanager:GetSecretValue"},
    "AWS::Events::EventBus": {"events:PutEvents"},
    "AWS::Scheduler::ScheduleGroup": {"scheduler:CreateSchedule"},
    "AWS::IAM::Role": {"iam:PassRole"},
}


def _grants(document: dict[str, Any], owner: str, actions: set[str], target: str) -> bool:
    """Whether owner has an Allow statement with one of actions on a resource that names target."""
    return any(
        statement.get("Effect") == "Allow"
        and {str(a) for a in as_list(statement.get("Action"))} & actions
        and target in referenced_ids(statement.get("Resource"))
        for who, statement in policy_statements(document)
        if who == owner
    )


def test_every_resource_a_function_is_told_about_its_role_may_use() -> None:
    """A variable naming a table, bucket, workflow, secret, bus, schedule group or role is useless (or a runtime
    AccessDenied) without the permission to use it; a queue's URL is for sending to it, a queue's ARN is a timer
    target that TimerSchedulerRole sends to."""
    document = template()
    resources = document["Resources"]
    problems = []
    for lid, props in function_properties(document).items():
        for name, value in ((props.get("Environment") or {}).get("Variables") or {}).items():
            for target in sorted(referenced_ids(value) & set(resources)):
                kind = resources[target]["Type"]
                if kind == "AWS::SQS::Queue":
                    if name.endswith("_URL") and not _grants(document, lid, {"sqs:SendMessage"}, target):
                        problems.append(f"{lid}: {name} names {target} but it may not sqs:SendMessage to it")
                    if name.endswith("_ARN") and not _grants(
                        document, "TimerSchedulerRole", {"sqs:SendMessage"}, target
                    ):
                        problems.append(f"{lid}: timers to {target} ({name}) but TimerSchedulerRole may not send there")
                elif kind == "AWS::Cognito::UserPool":
                    granted = any(
                        who == lid and any(str(a).startswith("cognito-idp:") for a in as_list(s.get("Action")))
                        for who, s in policy_statements(document)
                    )
                    if not granted:
                        problems.append(f"{lid}: {name} names {target} but it may call no cognito-idp action")
                elif kind in USES_BY_TYPE and not _grants(document, lid, USES_BY_TYPE[kind], target):
                    problems.append(f"{lid}: {name} names {target} but it may do none of {sorted(USES_BY_TYPE[kind])}")
    assert not problems, "\n".join(problems)


def test_the_timer_role_sends_only_to_queues_a_function_schedules_timers_to() -> None:
    document = template()
    targets = {
        str(arn_target(value))
        for props in function_properties(document).values()
        for name, value in ((props.get("Environment") or {}).get("Variables") or {}).items()
        if name.endswith("_QUEUE_ARN") and "SCHEDULER_ROLE_ARN" in ((props.get("Environment") or {}).get("Variables"))
    }
    granted = {
        str(arn_target(resource))
        for owner, statement in policy_statements(document)
        if owner == "TimerSchedulerRole" and "sqs:SendMessage" in as_list(statement.get("Action"))
        for resource in as_list(statement.get("Resource"))
    }
    assert targets and granted == targets


SQS_SENDS = {"send_message", "send_message_batch"}


def _module_file(module: str, roots: Sequence[Path]) -> Path | None:
    for root in roots:
        for candidate in (
            (root / Path(*module.split("."))).with_suffix(".py"),
            root / Path(*module.split(".")) / "__init__.py",
        ):
            if candidate.is_file():
                return candidate
    return None


def _local_modules(spec: FunctionSpec) -> dict[str, ast.Module]:
    """The handler's module and every module of the function's own code or of shared/ it imports, transitively."""
    roots = (spec.code_dir, ROOT)
    found: dict[str, ast.Module] = {}
    pending = [spec.module]
    while pending:
        module = pending.pop()
        path = _module_file(module, roots)
        if module in found or path is None:
            continue
        found[module] = tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                pending += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                pending += [a.name for a in node.names]
    return found


def _sqs_senders(modules: dict[str, ast.Module]) -> set[str]:
    """`module.Name` of every top-level class or function whose code calls SendMessage on `client("sqs")`."""
    senders = set()
    for module, tree in modules.items():
        for definition in tree.body:
            if not isinstance(definition, ast.ClassDef | ast.FunctionDef):
                continue
            calls = [n for n in ast.walk(definition) if isinstance(n, ast.Call)]
            sqs_client = any(
                "client" in (getattr(c.func, "id", None), getattr(c.func, "attr", None))  # client("sqs"), boto3.client
                and c.args
                and isinstance(c.args[0], ast.Constant)
                and c.args[0].value == "sqs"
                for c in calls
            )
            if sqs_client and any(isinstance(c.func, ast.Attribute) and c.func.attr in SQS_SENDS for c in calls):
                senders.add(f"{module}.{definition.name}")
    return senders


def _settings_given_to_senders(spec: FunctionSpec) -> dict[str, str]:
    """{VARIABLE: where} for each setting the function's code passes to an SQS sender (`SqsWorkQueue(SETTINGS.x)`,
    `SqsWorkQueue.from_arn(SETTINGS.x)`): the queue that variable names is one the function sends to itself."""
    modules = _local_modules(spec)
    senders = _sqs_senders(modules)
    given: dict[str, str] = {}
    for module, tree in modules.items():
        names = {f"{module}.{d.name}": d.name for d in tree.body if isinstance(d, ast.ClassDef | ast.FunctionDef)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names |= {f"{node.module}.{a.name}": a.asname or a.name for a in node.names}
        local = {names[s] for s in senders if s in names}
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            func = call.func.value if isinstance(call.func, ast.Attribute) else call.func  # Sender or Sender.from_x
            if not (isinstance(func, ast.Name) and func.id in local):
                continue
            for argument in [*call.args, *(k.value for k in call.keywords)]:
                for node in ast.walk(argument):
                    if isinstance(node, ast.Attribute) and node.attr.upper() in spec.variables:
                        given[node.attr.upper()] = f"{module} ({func.id}, line {call.lineno})"
    return given


def test_every_function_that_sends_to_a_queue_may_send_to_that_queue(specs: dict[str, FunctionSpec]) -> None:
    """A setting (`*_QUEUE_URL`, `*_QUEUE_ARN`...) the code hands to an adapter that calls SendMessage names a queue
    the function itself sends to: its role needs sqs:SendMessage on exactly that queue (a timer target's ARN handed
    only to the scheduler is TimerSchedulerRole's to send to, checked above)."""
    document = template()
    resources = document["Resources"]
    problems, checked = [], []
    for lid, spec in specs.items():
        variables = (spec.properties.get("Environment") or {}).get("Variables") or {}
        for name, where in sorted(_settings_given_to_senders(spec).items()):
            queues = {
                t for t in referenced_ids(variables[name]) if resources.get(t, {}).get("Type") == "AWS::SQS::Queue"
            }
            if not queues:
                problems.append(f"{lid}: {where} sends to {name}, which names no queue of the template")
            for queue in sorted(queues):
                checked.append((lid, queue))
                if not _grants(document, lid, {"sqs:SendMessage"}, queue):
                    problems.append(f"{lid}: {where} sends to {queue} ({name}) but it may not sqs:SendMessage to it")
    assert checked, "no function's code sends to a queue: the SendMessage detection is broken"
    assert not problems, "\n".join(problems)


def test_the_approvals_service_may_resume_every_workflow_that_asks_it() -> None:
    """A workflow that sends approval requests waits for a task token that ApprovalDecisionsFunction returns."""
    document = template()
    asking = {
        lid
        for lid, (_, props) in state_machines(document).items()
        if "ApprovalRequestsQueue" in referenced_ids(props.get("DefinitionSubstitutions"))
    }

    def granted(function: str, action: str) -> set[str]:
        return {
            str(arn_target(resource))
            for owner, statement in policy_statements(document)
            if owner == function and action in as_list(statement.get("Action"))
            for resource in as_list(statement.get("Resource"))
        }

    assert asking and asking == granted("ApprovalDecisionsFunction", "states:SendTaskSuccess")
    # ... and the requests function asks whether a re-run's task still waits on its token, on the same workflows
    assert asking == granted("ApprovalRequestsFunction", "states:SendTaskHeartbeat")


def test_no_function_lists_more_than_five_layers() -> None:
    """Lambda's limit: five layers per function, the kernel (Globals) included."""
    for lid, props in function_properties(template()).items():
        assert len(props.get("Layers") or []) <= 5, f"{lid}: {len(props['Layers'])} layers"


def test_every_bucket_is_private_encrypted_and_refuses_plain_http() -> None:
    document = template()
    policies = resources_of_type(document, "AWS::S3::BucketPolicy")
    for lid, bucket in resources_of_type(document, "AWS::S3::Bucket").items():
        props = bucket.get("Properties") or {}
        block = props.get("PublicAccessBlockConfiguration") or {}
        assert block and all(
            block.get(key) is True
            for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        ), lid
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], lid
        denies = [
            statement
            for policy in policies.values()
            if arn_target(policy["Properties"]["Bucket"]) == lid
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
            and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert denies, f"{lid} needs a bucket policy denying aws:SecureTransport false"
        for rule in (props.get("CorsConfiguration") or {}).get("CorsRules") or []:
            assert rule["AllowedOrigins"] == [{"Ref": "PortalUrl"}], f"{lid}: CORS for the portal only"
            assert "POST" in rule["AllowedMethods"] and not {"PUT", "DELETE"} & set(rule["AllowedMethods"]), lid


# Issue 11: who hears which event. Each context subscribes to exactly what its consumer handles (brief, docs/api.md).
SUBSCRIPTIONS = {
    "OnboardingEventsQueue": {
        "prm.onboarding": {
            "PartnerApplicationSubmitted",
            "PartnerApplicationConfirmed",
            "PartnerApplicationRejected",
            "PartnerApplicationExpired",
            "PartnerUserInvited",
            "PartnerUserRemoved",  # the safety net: disabled and signed out even if the API's own call failed
        },
        "prm.tiers": {"PartnerTierChanged"},
    },
    "TrainingEventsQueue": {
        "prm.onboarding": {
            "PartnerOnboarded",
            "PartnerUserInvited",
            "PartnerUserRemoved",
            "ProgrammeAgreementPublished",  # the agreement gate on training's partner routes
            "PartnerAgreementAccepted",
        },
        "prm.training": {"CertificationEarned", "CertificationExpired", "CertificationWithdrawn"},
    },
    "TiersEventsQueue": {
        "prm.deals": {"DealApproved", "DealWon", "DealWinReversed", "DealLost"},  # a reversed win leaves the totals
        # CertificationDefined: the certification ids a criteria version may name
        "prm.training": {
            "CertificationDefined",
            "CertificationEarned",
            "CertificationExpired",
            "CertificationWithdrawn",
        },
        "prm.onboarding": {
            "PartnerOnboarded",
            "PartnerUserInvited",
            "PartnerUserRemoved",
            "ProgrammeAgreementPublished",  # the agreement gate on tiers' partner routes
            "PartnerAgreementAccepted",
        },
        "prm.tiers": {
            "TierUpgradeRequested",
            "PartnerTierChanged",
            "PartnerTierGracePeriodStarted",
            "PartnerTierGracePeriodEnded",
        },
    },
}


def subscriptions(document: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """queue logical id -> source -> detail-types the bus's rules deliver to it."""
    found: dict[str, dict[str, set[str]]] = {}
    for rule in resources_of_type(document, "AWS::Events::Rule").values():
        props = rule.get("Properties") or {}
        pattern = props.get("EventPattern") or {}
        for target in props.get("Targets") or []:
            by_source = found.setdefault(str(arn_target(target.get("Arn"))), {})
            for source in as_list(pattern.get("source")):
                by_source.setdefault(str(source), set()).update(str(t) for t in as_list(pattern.get("detail-type")))
    return found


def test_training_and_tiers_hear_exactly_the_events_of_the_brief_and_others_hear_tier_changes() -> None:
    found = subscriptions(template())
    for queue_id, expected in SUBSCRIPTIONS.items():
        assert found.get(queue_id) == expected, queue_id
    for queue_id in ("DealsEventsQueue", "OnboardingEventsQueue"):
        assert found[queue_id].get("prm.tiers") == {"PartnerTierChanged"}, queue_id


def _allowed(document: dict[str, Any], owner: str, target: str) -> set[str]:
    """The actions owner's Allow statements grant on a resource that names target."""
    return {
        str(action)
        for who, statement in policy_statements(document)
        if who == owner and statement.get("Effect") == "Allow" and target in referenced_ids(statement.get("Resource"))
        for action in as_list(statement.get("Action"))
    }


def test_onboardings_consumer_may_disable_and_sign_out_a_removed_user_both_or_neither() -> None:
    """Its PartnerUserRemoved safety net disables the account and ends its sessions: one without the other leaves a
    signed-in user working on, or a disabled one's tokens alive."""
    document = template()
    allowed = _allowed(document, "OnboardingEventsFunction", "PartnerUserPool")
    revoke = {"cognito-idp:AdminDisableUser", "cognito-idp:AdminUserGlobalSignOut"}
    assert revoke <= allowed, sorted(allowed)
    assert not {a for a in allowed if a.endswith("*")}, sorted(allowed)


def test_the_tiers_api_schedules_a_new_versions_timer_as_the_deals_consumer_does() -> None:
    """POST /programme/versions sets the fan-out timer itself: the same schedule group, role and statements as
    DealsEventsFunction's timers, to tiers' own workflow queue."""
    document = template()
    props = function_properties(document)
    env = (props["TiersApiFunction"].get("Environment") or {}).get("Variables") or {}
    assert referenced_ids(env.get("SCHEDULE_GROUP")) == {"TimerScheduleGroup"}
    assert referenced_ids(env.get("SCHEDULER_ROLE_ARN")) == {"TimerSchedulerRole"}
    assert referenced_ids(env.get("WORKFLOW_QUEUE_ARN")) == {"TiersWorkflowQueue"}

    def timer_statements(owner: str) -> list[dict[str, Any]]:
        return [
            s
            for who, s in policy_statements(document)
            if who == owner and set(as_list(s.get("Action"))) & {"scheduler:CreateSchedule", "iam:PassRole"}
        ]

    def created(owner: str) -> list[dict[str, Any]]:  # what the two may do alike; tiers also deletes (a withdrawal)
        return [
            s | {"Action": sorted(set(as_list(s["Action"])) - {"scheduler:DeleteSchedule"})}
            for s in timer_statements(owner)
        ]

    assert created("TiersApiFunction") == [
        s | {"Action": sorted(as_list(s["Action"]))} for s in timer_statements("DealsEventsFunction")
    ]
    assert len(timer_statements("TiersApiFunction")) == 2
    deleting = [s for s in timer_statements("TiersApiFunction") if "scheduler:DeleteSchedule" in as_list(s["Action"])]
    assert len(deleting) == 1 and "TimerScheduleGroup" in referenced_ids(deleting[0]["Resource"])


def _queues(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of_type(document, "AWS::SQS::Queue")


def _dead_letter_queues(document: dict[str, Any]) -> set[str]:
    used = set()
    for queue in _queues(document).values():
        redrive = (queue.get("Properties") or {}).get("RedrivePolicy") or {}
        if redrive:
            used.add(arn_target(redrive.get("deadLetterTargetArn")))
    for props in function_properties(document).values():
        for event in (props.get("Events") or {}).values():
            on_failure = ((event.get("Properties") or {}).get("DestinationConfig") or {}).get("OnFailure") or {}
            if on_failure:
                used.add(arn_target(on_failure.get("Destination")))
    return {str(q) for q in used if q}


def test_every_queue_redrives_to_a_dead_letter_queue() -> None:
    document = template()
    queues = _queues(document)
    dlqs = _dead_letter_queues(document)
    assert dlqs <= set(queues), f"dead-letter targets that are not queues here: {dlqs - set(queues)}"
    for lid, queue in queues.items():
        props = queue.get("Properties") or {}
        if lid in dlqs:
            assert "RedrivePolicy" not in props, f"{lid} is a DLQ and should not redrive further"
            continue
        assert not lid.endswith("DLQ"), f"{lid} is named a DLQ but nothing dead-letters into it"
        redrive = props.get("RedrivePolicy") or {}
        assert arn_target(redrive.get("deadLetterTargetArn")) in dlqs, f"{lid} has no RedrivePolicy to a DLQ"
        assert int(redrive.get("maxReceiveCount", 0)) >= 1, lid


def test_every_dead_letter_queue_and_approval_workflow_has_an_alarm() -> None:
    document = template()
    watched: set[str] = set()
    for lid, alarm in resources_of_type(document, "AWS::CloudWatch::Alarm").items():
        props = alarm.get("Properties") or {}
        assert props.get("AlarmActions"), f"{lid} notifies nobody"
        for dimension in props.get("Dimensions") or []:
            target = arn_target(dimension.get("Value"))
            if target:
                watched.add(target)
    missing_queues = _dead_letter_queues(document) - watched
    assert not missing_queues, f"dead-letter queues without an alarm: {sorted(missing_queues)}"
    machines = set(resources_of_type(document, "AWS::Serverless::StateMachine"))
    assert machines <= watched, f"state machines without a failure alarm: {sorted(machines - watched)}"


def test_event_sources_report_partial_failures_and_streams_have_an_on_failure_destination() -> None:
    document = template()
    queues = _queues(document)
    for lid, props in function_properties(document).items():
        for name, event in (props.get("Events") or {}).items():
            ep = event.get("Properties") or {}
            if event["Type"] == "SQS":
                assert ep.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], f"{lid}.{name}"
                queue = queues[str(arn_target(ep["Queue"]))]
                visibility = int((queue.get("Properties") or {}).get("VisibilityTimeout", 30))
                # Lambda refuses the mapping when the queue would hand a message out again mid-invocation.
                assert visibility >= int(props.get("Timeout", 3)), f"{lid}.{name}: VisibilityTimeout < function Timeout"
            if event["Type"] in ("DynamoDB", "Kinesis"):
                on_failure = (ep.get("DestinationConfig") or {}).get("OnFailure") or {}
                assert on_failure.get("Destination"), f"{lid}.{name}: stream source without DestinationConfig.OnFailure"
                assert ep.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], f"{lid}.{name}"
                assert ep.get("MaximumRetryAttempts") is not None, f"{lid}.{name}: unbounded retries block the shard"


def test_consumer_queues_leave_room_for_lambda_retries() -> None:
    """AWS: a source queue's VisibilityTimeout should be at least 6x the function timeout, or throttled batches come
    back early and burn maxReceiveCount toward the DLQ (docs: Lambda > SQS event source mapping > configuring)."""
    document = template()
    queues = _queues(document)
    short = []
    for lid, props in function_properties(document).items():
        for name, event in (props.get("Events") or {}).items():
            if event["Type"] != "SQS":
                continue
            queue_id = str(arn_target(event["Properties"]["Queue"]))
            visibility = int((queues[queue_id].get("Properties") or {}).get("VisibilityTimeout", 30))
            timeout = int(props.get("Timeout", 3))
            if visibility < 6 * timeout:
                short.append(f"{queue_id} VisibilityTimeout {visibility} < 6 x {lid} Timeout {timeout} ({name})")
    assert not short, "\n".join(short)


def test_event_rules_deliver_to_sqs_queues_that_allow_them() -> None:
    document = template()
    queues = _queues(document)
    buses = set(resources_of_type(document, "AWS::Events::EventBus"))
    queue_policies = resources_of_type(document, "AWS::SQS::QueuePolicy")
    for lid, rule in resources_of_type(document, "AWS::Events::Rule").items():
        props = rule.get("Properties") or {}
        if props.get("EventBusName") is None:  # S3 sends object events to the default bus only (ContentUploadsRule)
            assert as_list((props.get("EventPattern") or {}).get("source")) == ["aws.s3"], f"{lid}: default bus"
        else:
            assert arn_target(props.get("EventBusName")) in buses, f"{lid} must listen on the PRM bus"
        targets = props.get("Targets") or []
        assert targets, f"{lid} has no target"
        for target in targets:
            queue_id = arn_target(target.get("Arn"))
            assert queue_id in queues, (
                f"{lid} targets {target.get('Arn')}, not an SQS queue (moto delivers to SQS only)"
            )
            allowed = False
            for policy in queue_policies.values():
                pprops = policy.get("Properties") or {}
                if queue_id not in {arn_target(q) for q in as_list(pprops.get("Queues"))}:
                    continue
                for statement in pprops["PolicyDocument"]["Statement"]:
                    principal = json.dumps(statement.get("Principal"))
                    source = json.dumps(statement.get("Condition") or {})
                    if "events.amazonaws.com" in principal and "sqs:SendMessage" in as_list(statement["Action"]):
                        allowed = allowed or f'"{lid}"' in source
            assert allowed, f"{queue_id} has no queue policy letting {lid} (aws:SourceArn) send to it"


# ---------------------------------------------------------------------------------------------- 6. no Scan in code


def test_no_scan_on_request_or_event_paths() -> None:
    patterns = [re.compile(r"\bscan\s*\(", re.IGNORECASE), re.compile(r"""["'](dynamodb:)?scan["']""", re.IGNORECASE)]
    found = []
    for folder in (ROOT / "functions", ROOT / "shared"):
        for path in sorted(folder.rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if any(p.search(line) for p in patterns):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "Scan on a request/event path:\n" + "\n".join(found)


# ---------------------------------------------------------------------------------------------- 7. event schema drift


def test_event_schemas_match_the_contracts() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tools.gen_schemas", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, f"schema drift (run `make schemas`):\n{run.stdout}\n{run.stderr}"


# ---------------------------------------------------------------------------------------------- 8. state machines


def state_machines(document: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """logical id -> (definition text, properties) for every state machine with a local or inline definition."""
    found = {}
    for lid, resource in resources_of_type(document, "AWS::Serverless::StateMachine").items():
        props = resource.get("Properties") or {}
        if isinstance(props.get("DefinitionUri"), str):
            found[lid] = ((ROOT / props["DefinitionUri"]).read_text(encoding="utf-8"), props)
        elif isinstance(props.get("Definition"), dict):
            found[lid] = (json.dumps(props["Definition"]), props)
    return found


def all_states(definition: dict[str, Any], where: str = "") -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(path, state, enclosing States map) for every state, nested Parallel branches and Map processors included."""
    states = definition.get("States") or {}
    for name, state in states.items():
        yield f"{where}{name}", state, states
        for branch in state.get("Branches") or []:
            yield from all_states(branch, f"{where}{name}/")
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), dict):
                yield from all_states(state[key], f"{where}{name}/")


def test_state_machine_definitions_are_testable_and_resilient() -> None:
    document = template()
    machines = state_machines(document)
    assert machines, "no state machine definitions found"
    functions = set(resources_of_type(document, "AWS::Serverless::Function", "AWS::Lambda::Function"))
    problems = []
    for lid, (text, props) in machines.items():
        try:
            definition = json.loads(text)
        except json.JSONDecodeError as error:
            problems.append(f"{lid}: not JSON: {error}")
            continue
        substitutions = props.get("DefinitionSubstitutions") or {}
        used = set(re.findall(r"\$\{([^}]+)\}", text))
        if used != set(substitutions):
            problems.append(
                f"{lid}: placeholders without substitution {sorted(used - set(substitutions))}, "
                f"substitutions never used {sorted(set(substitutions) - used)}"
            )
        lambda_substitutions = {k for k, v in substitutions.items() if referenced_ids(v) & functions}
        if definition.get("QueryLanguage") == "JSONata":
            problems.append(f"{lid}: JSONata does not run in moto")
        assert definition.get("StartAt") in definition.get("States", {}), f"{lid}: StartAt names no state"
        for path, state, siblings in all_states(definition):
            for target in [state.get("Next"), state.get("Default")] + [
                rule.get("Next") for rule in [*(state.get("Catch") or []), *(state.get("Choices") or [])]
            ]:
                if target is not None and target not in siblings:
                    problems.append(f"{lid}/{path}: goes to unknown state {target}")
            terminal = state["Type"] in ("Choice", "Succeed", "Fail") or state.get("End") is True
            if not terminal and "Next" not in state:
                problems.append(f"{lid}/{path}: neither Next nor End")
            if "Assign" in state or state.get("QueryLanguage") == "JSONata":
                problems.append(f"{lid}/{path}: Assign/JSONata do not run in moto")
            if state["Type"] != "Task":
                continue
            resource = str(state.get("Resource", ""))
            if not state.get("Retry"):
                problems.append(f"{lid}/{path}: Task without Retry")
            if not state.get("Catch"):
                problems.append(f"{lid}/{path}: Task without Catch")
            if resource.endswith(".waitForTaskToken") and not ({"TimeoutSeconds", "TimeoutSecondsPath"} & set(state)):
                problems.append(f"{lid}/{path}: waits for a task token without TimeoutSeconds(Path)")
            invokes_lambda = "lambda:invoke" in resource or ":lambda:" in resource
            if invokes_lambda or any(f"${{{name}}}" in resource for name in lambda_substitutions):
                problems.append(f"{lid}/{path}: lambda:invoke tasks cannot run in moto; use a service integration")
            if re.search(r"dynamodb:scan", resource, re.IGNORECASE):
                problems.append(f"{lid}/{path}: Scan")
    assert not problems, "\n".join(problems)


def test_automatic_deal_approval_is_express_logs_its_failures_and_only_deals_consumer_starts_it() -> None:
    """Issue 10: the automatic path waits for nobody, so it runs as an EXPRESS workflow (per request and duration, not
    per transition); Express keeps no history, so its failures go to a log group (errors only, no execution data)
    and raise an alarm. Human approvals stay STANDARD (callback pattern)."""
    document = template()
    resources = document["Resources"]
    auto = resources["DealAutoApprovalStateMachine"]["Properties"]
    assert auto["Type"] == "EXPRESS" and auto["Tracing"] == {"Enabled": True}
    assert resources["DealApprovalStateMachine"]["Properties"]["Type"] == "STANDARD"
    logging = auto["Logging"]
    assert logging["Level"] == "ERROR" and logging["IncludeExecutionData"] is False
    [destination] = logging["Destinations"]
    group = arn_target(destination["CloudWatchLogsLogGroup"]["LogGroupArn"])
    assert resources[str(group)]["Type"] == "AWS::Logs::LogGroup"
    assert resources[str(group)]["Properties"]["RetentionInDays"] >= 365
    definition = json.loads(state_machines(document)["DealAutoApprovalStateMachine"][0])
    assert [s["Type"] for s in definition["States"].values()] == ["Task", "Fail"]  # one SQS task, nothing waits
    human = json.loads(state_machines(document)["DealApprovalStateMachine"][0])
    assert not any('"automatic": true' in json.dumps(state) for state in human["States"].values())
    # Least privilege: the Express role sends to deals' workflow queue only (and delivers its logs).
    sends = [
        arn_target(resource)
        for owner, statement in policy_statements(document)
        if owner == "DealAutoApprovalStateMachine" and "sqs:SendMessage" in as_list(statement.get("Action"))
        for resource in as_list(statement.get("Resource"))
    ]
    assert sends == ["DealsWorkflowQueue"]
    granted = {
        str(action)
        for owner, statement in policy_statements(document)
        if owner == "DealAutoApprovalStateMachine"
        for action in as_list(statement.get("Action"))
    }
    assert granted == {"sqs:SendMessage"} | LOG_DELIVERY_ACTIONS
    starters = {
        owner
        for owner, statement in policy_statements(document)
        if "states:StartExecution" in as_list(statement.get("Action"))
        and "DealAutoApprovalStateMachine" in {arn_target(r) for r in as_list(statement.get("Resource"))}
    }
    assert starters == {"DealsEventsFunction"}
    variables = function_properties(document)["DealsEventsFunction"]["Environment"]["Variables"]
    assert arn_target(variables["AUTO_APPROVAL_STATE_MACHINE_ARN"]) == "DealAutoApprovalStateMachine"
    assert arn_target(variables["APPROVAL_STATE_MACHINE_ARN"]) == "DealApprovalStateMachine"


def test_state_machines_may_send_to_every_queue_they_name() -> None:
    document = template()
    queues = _queues(document)
    for lid, (_, props) in state_machines(document).items():
        named = {
            q for v in (props.get("DefinitionSubstitutions") or {}).values() for q in referenced_ids(v) if q in queues
        }
        granted: set[str] = set()
        for policy in as_list(props.get("Policies") or []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                if "sqs:SendMessage" in as_list(statement.get("Action")):
                    granted |= {str(arn_target(r)) for r in as_list(statement.get("Resource"))}
        assert named <= granted, f"{lid} sends to {sorted(named - granted)} without sqs:SendMessage"


def test_placeholders_resolve_every_function_environment() -> None:
    """The helper the handler checks and the benchmark share: it must give every variable a concrete value."""
    with tempfile.TemporaryDirectory() as folder:
        kernel = lambda_opt_python(["SharedKernelLayer"], Path(folder))
        assert (kernel / "shared" / "settings.py").is_file()
        assert sorted(p.name for p in kernel.iterdir()) == ["shared"]  # the kernel ships no contracts
    for spec in function_specs().values():
        assert spec.code_dir.is_dir(), spec
        assert (spec.code_dir / (spec.module.replace(".", "/") + ".py")).is_file(), spec.handler
        for name, value in spec.variables.items():
            assert value and "${" not in value and "Fn::" not in value, f"{spec.logical_id} {name}={value!r}"


def test_every_gateway_response_and_waf_block_answers_the_documented_error_shape() -> None:
    """API Gateway's own answers (and WAF's custom 429) use {"code","message","errors"} like the functions do."""
    document = template()
    api = document["Resources"]["PrmApi"]["Properties"]
    responses = api["GatewayResponses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)  # every response type not listed falls back to these
    for name, response in responses.items():
        body = response["ResponseTemplates"]["application/json"].replace("$context.error.messageString", '"text"')
        assert set(json.loads(body)) == {"code", "message", "errors"}, name
    acl = document["Resources"]["ApiWebAcl"]["Properties"]
    for name, custom in acl["CustomResponseBodies"].items():
        assert custom["ContentType"] == "APPLICATION_JSON"
        assert set(json.loads(custom["Content"])) == {"code", "message", "errors"}, name
    # POST /applications, confirmation pages, approval links, proof links, LMS webhooks, xAPI statements
    assert len(acl["Rules"]) >= 6
    for rule in acl["Rules"]:
        assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
        rate = rule["Statement"]["RateBasedStatement"]
        assert rate["AggregateKeyType"] == "IP"  # the socket's address: a client cannot pick its own (X-Forwarded-For)
        assert set(rate["Limit"]) == {"Ref"} and set(rate["EvaluationWindowSec"]) == {"Ref"}  # parameters, not literals
    association = document["Resources"]["ApiWebAclAssociation"]["Properties"]
    assert "PrmApi" in json.dumps(association["ResourceArn"])
