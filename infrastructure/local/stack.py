"""LocalStack: starts moto, provisions template.yaml into it, runs the functions, their event sources and the API locally."""

from __future__ import annotations

import functools
import importlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from infrastructure.local import moto_patches
from infrastructure.local.template import ACCOUNT_ID, REGION, Template, TemplateError, load_template

if TYPE_CHECKING:
    from infrastructure.local.auth import CognitoTokenVerifier
    from infrastructure.local.gateway import ApiGateway
    from infrastructure.local.mail import Mailbox
    from infrastructure.local.mappings import EventSourceMapping
    from infrastructure.local.metering import Meter
    from infrastructure.local.provision import Provisioner
    from infrastructure.local.runtime import FunctionSpec, Runtime
    from infrastructure.local.scheduler import ScheduleRunner
    from infrastructure.local.server import LocalHttpServer

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# Environment variables whose template value points at the deployed API Gateway stage; locally they point at the
# emulator instead. (PortalUrl, PORTAL_URL and ALLOWED_ORIGIN follow from the PortalUrl parameter, set to base_url.)
LOCAL_ENV_OVERRIDES: dict[str, Callable[[LocalStack], str]] = {
    "LINK_BASE_URL": lambda stack: stack.api_url,
}

STACK_USER_AGENT = "prm-local-stack"  # in the User-Agent of the stack's own AWS calls (pollers, timers, seed)
STOP_GRACE_SECONDS = 1.0  # how long stop() lets in-flight event source batches finish before stopping their workers

_running: set[LocalStack] = set()
_running_lock = threading.Lock()


def running_stacks() -> int:
    """How many local stacks this process runs. moto's backends are process-wide: a running stack's pollers and timer
    thread would act on an in-process moto test's queues and schedules, so such tests refuse to start beside one."""
    with _running_lock:
        return len(_running)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LocalStack:
    """The whole PRM on one machine: moto, resources from template.yaml, function workers, event sources and the API."""

    def __init__(
        self,
        *,
        port: int = 8080,
        moto_port: int = 5055,
        parameters: dict[str, str] | None = None,
        state_dir: Path = Path(".local"),
        fresh: bool = False,
        seed: bool = True,
        prewarm: bool = False,
        worker_idle_seconds: float | None = None,
        throttling: bool = True,
        repo_root: Path = REPO_ROOT,
        meter: Meter | None = None,
    ) -> None:
        self.port = port
        self.moto_port = moto_port
        self.parameters = dict(parameters or {})
        self.state_dir = Path(state_dir).resolve()
        self.fresh = fresh
        self.seed_enabled = seed
        self.prewarm = prewarm  # start the API's functions' workers at start, so the portal's first clicks are warm
        # Reclaim a function's worker after this long idle, as Lambda does (None: keep them until the stack stops).
        self.worker_idle_seconds = worker_idle_seconds
        self.throttling = throttling
        # Counts what AWS would bill (benchmarks/cost.py): every moto call, API request and invocation. Off when None.
        self.meter = meter
        self.host = HOST  # loopback only: the portal, API and moto are a developer's local tools
        self.repo_root = Path(repo_root).resolve()
        self.seed_lines: list[str] = []
        self.restored = False
        self.started_in: float | None = None  # seconds until everything served, demo data not included
        self._start_clock = 0.0
        self._clients: dict[str, Any] = {}
        self._session: Any = None
        self._clients_lock = threading.Lock()
        self._template: Template | None = None
        self._moto: Any = None  # moto.server.ThreadedMotoServer, imported lazily
        self._http: LocalHttpServer | None = None
        self._runtime: Runtime | None = None
        self._mappings: list[EventSourceMapping] = []
        self._scheduler: ScheduleRunner | None = None
        self._mailbox: Mailbox | None = None
        self._previous_moto_port: str | None = None
        self._started = False

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalStack:
        """Start everything; returns self. Raises if a resource cannot be provisioned."""
        if self._started:
            return self
        self._start_clock = time.perf_counter()
        with _running_lock:
            alone = not _running
            _running.add(self)
        self._started = True
        try:
            self._start(alone)
        except BaseException:
            self.stop(snapshot=False)
            raise
        seeded = time.perf_counter() - self._start_clock - (self.started_in or 0)
        logger.info(
            "local stack up in %.2f s at %s%s",
            self.started_in,
            self.base_url,
            f" (+ {seeded:.1f} s {'reading the demo data' if self.restored else 'of demo data'})"
            if seeded > 0.05
            else "",
        )
        return self

    def _start(self, alone: bool) -> None:
        from infrastructure.local.mail import Mailbox
        from infrastructure.local.server import LocalHttpServer, Site

        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._mailbox = Mailbox()
        site = Site(self.repo_root / "portal", self._mailbox, self.portal_config)
        self._http = LocalHttpServer(site, self.host, self.port)
        self.port = self._http.port
        self._start_moto()
        extra = self._load_state(alone)
        self._mailbox.install()

        from infrastructure.local.provision import Provisioner

        parameters = {"PortalUrl": self.base_url, **self.parameters}
        self._template = Template(load_template(self.repo_root / "template.yaml"), parameters)
        provisioner = Provisioner(self._template, self.client, self.repo_root)
        provisioner.provision()

        from infrastructure.local.runtime import Runtime

        specs = self._function_specs(provisioner)
        self._runtime = Runtime(
            specs,
            observer=self.meter.record_invocation if self.meter else None,
            idle_seconds=self.worker_idle_seconds,
        )
        self._mappings = self._build_mappings(provisioner, extra.get("checkpoints") or {})
        gateway = self._build_gateway(provisioner)
        if self.prewarm and gateway:
            # Consumers start at their first event, like Lambda: warming all 27 functions would hold ~1.4 GB.
            self._runtime.prewarm(dict.fromkeys(route.function for route in gateway.routes))
        site.gateway = self.meter.gateway(gateway) if self.meter and gateway else gateway
        for mapping in self._mappings:
            mapping.start()
        from infrastructure.local.scheduler import ScheduleRunner

        # Timers are EventBridge Scheduler schedules (DESIGN.md section 4), which moto never fires: one thread does.
        self._scheduler = ScheduleRunner(
            sqs=self.client("sqs"), queue_url=self._queue_url, housekeeping=moto_patches.prune_finished_threads
        )
        self._scheduler.start()
        self._http.start()
        self._rerun_interrupted_executions(extra.get("interrupted_executions") or [])
        self.started_in = time.perf_counter() - self._start_clock
        self._seed(extra)

    def _start_moto(self) -> None:
        import requests

        from infrastructure.local.cognito_guard import guarded_moto_server

        if moto_patches.mock_aws_active():
            # mock_aws resets moto's process-wide state when it starts and stops: the stack's resources would vanish.
            raise RuntimeError(
                "mock_aws is active in this process; the local stack needs moto's state to itself "
                "(run in-process moto tests and local stack tests in different processes)"
            )
        # atomic DynamoDB, bounded memory, fewer threads, a Query that reads its partition only; refuses another moto
        moto_patches.apply_query_shortcuts()

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
        self.moto_port = self.moto_port or _free_port(HOST)
        # Step Functions service integrations call back into moto on this port (DESIGN.md section 6).
        self._previous_moto_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(self.moto_port)
        # AWS enforces the app client's WriteAttributes and AllowAdminCreateUserOnly; moto does not (DESIGN.md 6b).
        self._moto = guarded_moto_server(
            HOST, self.moto_port, middleware=self.meter.wsgi_middleware if self.meter else None
        )
        self._moto.start()
        requests.post(
            f"{self.moto_url}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=10
        ).raise_for_status()

    def _load_state(self, alone: bool) -> dict[str, Any]:
        from infrastructure.local import snapshot

        if not alone:
            # moto's state is per process: a second stack shares it (give it another Stage to keep apart).
            logger.warning("another LocalStack runs in this process: sharing its moto state, no restore")
            return {}
        import requests

        requests.post(f"{self.moto_url}/moto-api/reset", timeout=10).raise_for_status()
        if self.fresh:
            return {}
        extra = snapshot.restore(self.snapshot_path)
        if extra is None:
            return {}
        self.restored = True
        logger.info("restored data from %s", self.snapshot_path)
        return extra

    def _rerun_interrupted_executions(self, interrupted: list[dict[str, str]]) -> None:
        sfn = self.client("stepfunctions")
        for execution in interrupted:
            try:
                sfn.start_execution(**execution)
            except Exception as error:
                logger.warning("could not re-run interrupted execution %s: %s", execution["name"], error)
                continue
            logger.info("re-ran execution %s from its start (it was running when the stack stopped)", execution["name"])

    def _seed(self, extra: dict[str, Any]) -> None:
        if not self.seed_enabled:
            return
        try:
            module = importlib.import_module("infrastructure.local.seed")
        except ModuleNotFoundError as error:
            if error.name != "infrastructure.local.seed":
                raise
            return
        try:
            # After a restart the banner says what the restored data holds now, never the fresh demo's story.
            lines = module.describe(self) if self.restored else module.seed(self)
        except Exception:
            # The stack itself works; a broken demo-data script should not take `make dev` down with it.
            logger.exception("creating demo data failed; the stack runs without (all of) it")
            self.seed_lines = ["(creating demo data failed: see the error above)"]
            return
        if isinstance(lines, list):
            self.seed_lines = [str(line) for line in lines]

    def stop(self, *, snapshot: bool = True) -> None:
        """Stop serving, stop event sources and workers, save a snapshot, stop moto. Safe to call twice."""
        if not self._started:
            return
        self._started = False
        stopping = clock = time.perf_counter()
        phases: list[str] = []

        def phase(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            phases.append(f"{name} {now - clock:.2f}")
            clock = now

        if self._http is not None:
            self._http.stop()
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler.join(timeout=STOP_GRACE_SECONDS)
        phase("serving and timers")
        for mapping in self._mappings:
            mapping.stop()
        # In-flight batches get a short grace; then their workers are stopped as Lambda stops an environment, and
        # the messages or stream records come back on the next start (handlers are idempotent). Stopping must not
        # wait for a function's whole timeout.
        self._join_mappings(STOP_GRACE_SECONDS)
        phase("event sources")
        if self._runtime is not None:
            self._runtime.close(kill_busy=True)
        self._join_mappings(STOP_GRACE_SECONDS)
        phase("workers")
        with _running_lock:
            _running.discard(self)
            alone = not _running
        if snapshot and alone and self._template is not None:
            self._save_state()
            phase("snapshot")
        if self._moto is not None:
            self._moto.stop()
            phase("moto")
        if self._previous_moto_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = self._previous_moto_port
        logger.info("local stack stopped in %.2f s (%s)", time.perf_counter() - stopping, ", ".join(phases))

    def _join_mappings(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for mapping in self._mappings:
            if mapping.is_alive():
                mapping.join(timeout=max(0.0, deadline - time.monotonic()))

    def _save_state(self) -> None:
        from infrastructure.local import snapshot

        started = time.perf_counter()
        extra = {
            "checkpoints": {
                mapping.name: dict(mapping.checkpoints) for mapping in self._mappings if hasattr(mapping, "checkpoints")
            },
            "seed_lines": self.seed_lines,
        }
        try:
            snapshot.save(self.snapshot_path, extra)
        except Exception:
            logger.exception("could not save a snapshot; the next start begins empty")
            return
        logger.info("saved data to %s in %.2f s", self.snapshot_path, time.perf_counter() - started)

    # ------------------------------------------------------------------ public accessors

    @property
    def snapshot_path(self) -> Path:
        """Where stop() saves and start() restores data."""
        return self.state_dir / "snapshot.pkl"

    @property
    def base_url(self) -> str:
        """The portal's origin, e.g. http://127.0.0.1:8080."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The API stage's base URL (base_url + /api)."""
        return f"{self.base_url}/api"

    @property
    def mail_url(self) -> str:
        """The mail viewer."""
        return f"{self.base_url}/_mail/"

    @property
    def moto_url(self) -> str:
        """moto's endpoint, for boto3 endpoint_url and the browser's Cognito calls."""
        return f"http://{HOST}:{self.moto_port}"

    @property
    def template(self) -> Template:
        """The bound template (after start)."""
        if self._template is None:
            raise RuntimeError("the stack is not started")
        return self._template

    @property
    def runtime(self) -> Runtime:
        """The function workers (after start)."""
        if self._runtime is None:
            raise RuntimeError("the stack is not started")
        return self._runtime

    def resource(self, logical_id: str) -> Any:
        """What Ref returns for a resource (table name, queue URL, state machine ARN, pool id, ...)."""
        return self.template.ref(logical_id)

    def attr(self, logical_id: str, name: str) -> Any:
        """What Fn::GetAtt returns (Arn, StreamArn, ProviderURL, ...)."""
        return self.template.get_att(logical_id, name)

    def outputs(self) -> dict[str, Any]:
        """The template's Outputs that resolve locally."""
        return self.template.outputs()

    def client(self, service_name: str) -> Any:
        """A (cached, thread-safe) boto3 client for moto."""
        with self._clients_lock:
            if service_name not in self._clients:
                import boto3
                from botocore.config import Config

                if self._session is None:
                    self._session = boto3.session.Session()  # one session: endpoint data is loaded once
                self._clients[service_name] = self._session.client(
                    service_name,
                    endpoint_url=self.moto_url,
                    region_name=REGION,
                    config=Config(
                        retries={"max_attempts": 2, "mode": "standard"},
                        max_pool_connections=32,
                        user_agent_extra=STACK_USER_AGENT,  # the cost meter tells the stack's own calls apart
                    ),
                    **DUMMY_CREDENTIALS,
                )
            return self._clients[service_name]

    def mail(self) -> list[dict[str, Any]]:
        """Every email SES captured, newest first: {id, source, destinations, subject, body, timestamp}."""
        if self._mailbox is None:
            raise RuntimeError("the stack is not started")
        messages: list[dict[str, Any]] = self._mailbox.messages()
        return messages

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Invoke a function directly (RequestResponse); raises runtime.InvocationError on failure."""
        return self.runtime.invoke(logical_id, event)

    def portal_config(self) -> dict[str, Any]:
        """The portal's config.json."""
        pool_id, client_id = self._portal_identity()
        return {
            "apiBaseUrl": self.api_url,
            "region": REGION,
            "programmeName": self._template.parameters.get("ProgrammeName") if self._template else None,
            "cognito": {"endpoint": self.moto_url, "userPoolId": pool_id, "clientId": client_id},
        }

    def _portal_identity(self) -> tuple[str | None, str | None]:
        if self._template is None:
            return None, None
        template = self._template
        pools = [lid for lid in template.resources_of_type("AWS::Cognito::UserPool") if lid in template.values]
        clients = [lid for lid in template.resources_of_type("AWS::Cognito::UserPoolClient") if lid in template.values]
        if not pools:
            return None, None
        pool_id = str(template.ref(pools[0]))
        client_id = next(
            (str(template.ref(lid)) for lid in clients if template.get_att(lid, "UserPoolId") == pool_id), None
        )
        return pool_id, client_id

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Return once every mapped queue is empty (nothing in flight) and every stream is drained; else TimeoutError.

        Idle must hold twice in a row with no invocation finishing in between, so a message that one consumer
        produces for another while we look cannot slip through.
        """
        deadline = time.monotonic() + timeout
        mappings = [mapping for mapping in self._mappings if mapping.is_alive()]
        while True:
            before = sum(mapping.state.completed for mapping in mappings)
            if self._no_timer_due() and all(mapping.idle() for mapping in mappings):
                time.sleep(0.05)
                if all(mapping.idle() for mapping in mappings) and before == sum(
                    mapping.state.completed for mapping in mappings
                ):
                    return
            if time.monotonic() > deadline:
                busy = [mapping.name for mapping in mappings if not mapping.idle()]
                raise TimeoutError(f"event sources still busy after {timeout} s: {', '.join(busy) or 'settling'}")
            time.sleep(0.1)

    def _no_timer_due(self) -> bool:
        scheduler = self._scheduler
        if scheduler is None or not scheduler.is_alive():
            return True
        try:
            scheduler.wait_until_none_due(0)
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------------ functions

    def _opt_dir(self, logical_id: str, layers: list[Any]) -> Path:
        """The function's /opt: its layers' files linked under python/, merged in order as Lambda extracts them."""
        from infrastructure.local.layers import assemble, template_layers

        local = template_layers(self.template.resources, self.repo_root)
        by_arn = {str(self.template.ref(layer_id)): layer for layer_id, layer in local.items()}
        chosen = []
        for arn in layers:
            layer = by_arn.get(str(arn))
            if layer is None:
                logger.debug("layer %s is not a local layer; ignored", arn)
                continue
            chosen.append(layer)
        opt = self.state_dir / "opt" / logical_id
        assemble(chosen, opt)
        return opt

    def _function_specs(self, provisioner: Provisioner) -> list[FunctionSpec]:
        from infrastructure.local.runtime import FunctionSpec

        specs = []
        for logical_id, props in provisioner.functions.items():
            code_uri = props.get("CodeUri")
            if not isinstance(code_uri, str) or "Handler" not in props:
                logger.error("%s: only a local CodeUri with a Handler can run locally; skipped", logical_id)
                continue
            name = str(self.template.ref(logical_id))
            memory = int(props.get("MemorySize") or 128)
            variables = {
                key: str(value) for key, value in ((props.get("Environment") or {}).get("Variables") or {}).items()
            }
            for key, override in LOCAL_ENV_OVERRIDES.items():
                if key in variables:
                    variables[key] = override(self)
            environment = {
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "LANG": "C.UTF-8",
                "TZ": "UTC",
                "POWERTOOLS_TRACE_DISABLED": "true",
                **variables,
                "AWS_ENDPOINT_URL": self.moto_url,
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{logical_id}",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "LAMBDA_TASK_ROOT": str(self.repo_root / code_uri),
                "_HANDLER": str(props["Handler"]),
            }
            layers = props.get("Layers") or []
            specs.append(
                FunctionSpec(
                    logical_id=logical_id,
                    name=name,
                    arn=str(self.template.get_att(logical_id, "Arn")),
                    handler=str(props["Handler"]),
                    code_dir=(self.repo_root / code_uri).resolve(),
                    layer_dirs=(self._opt_dir(logical_id, layers),),
                    environment=environment,
                    memory_mb=memory,
                    timeout_seconds=float(props.get("Timeout") or 3),
                    log_path=self.state_dir / "logs" / f"{logical_id}.log",
                )
            )
        return specs

    # ------------------------------------------------------------------ event sources

    def _queue_url(self, arn: str) -> str:
        for values in self.template.values.values():
            if values.attrs.get("Arn") == arn and "QueueUrl" in values.attrs:
                return str(values.attrs["QueueUrl"])
        name = arn.rsplit(":", 1)[-1]
        return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def _build_mappings(
        self, provisioner: Provisioner, checkpoints: dict[str, dict[str, str]]
    ) -> list[EventSourceMapping]:
        from infrastructure.local.filters import parse_filter_criteria
        from infrastructure.local.mappings import SqsMapping, StreamMapping

        mappings: list[EventSourceMapping] = []
        for logical_id, props in provisioner.functions.items():
            if logical_id not in self.runtime.functions:
                continue
            function = self.runtime.functions[logical_id]
            for event_name, event in (props.get("Events") or {}).items():
                kind, source = event.get("Type"), event.get("Properties") or {}
                if str(source.get("Enabled", True)).lower() == "false":
                    continue
                name = f"{logical_id}.{event_name}"
                report = "ReportBatchItemFailures" in (source.get("FunctionResponseTypes") or [])
                filters = parse_filter_criteria(source.get("FilterCriteria"))
                if kind == "SQS":
                    mappings.append(
                        SqsMapping(
                            name=name,
                            function=function,
                            sqs=self.client("sqs"),
                            queue_url=self._queue_url(str(source["Queue"])),
                            queue_arn=str(source["Queue"]),
                            region=REGION,
                            batch_size=int(source.get("BatchSize") or 10),
                            report_batch_item_failures=report,
                            filters=filters,
                            queue_created=functools.partial(
                                moto_patches.sqs_queue_created, self._queue_url(str(source["Queue"])), REGION
                            ),
                        )
                    )
                elif kind == "DynamoDB":
                    on_failure = ((source.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
                    if on_failure and ":sqs:" not in str(on_failure):
                        logger.warning(
                            "%s: OnFailure destination %s is not SQS; not delivered locally", name, on_failure
                        )
                        on_failure = None
                    mappings.append(
                        StreamMapping(
                            name=name,
                            function=function,
                            streams=self.client("dynamodbstreams"),
                            sqs=self.client("sqs"),
                            stream_arn=str(source["Stream"]),
                            region=REGION,
                            starting_position=str(source.get("StartingPosition") or "TRIM_HORIZON"),
                            batch_size=int(source.get("BatchSize") or 100),
                            maximum_retry_attempts=int(source.get("MaximumRetryAttempts", -1)),
                            report_batch_item_failures=report,
                            filters=filters,
                            on_failure_queue_url=self._queue_url(str(on_failure)) if on_failure else None,
                            checkpoints=checkpoints.get(name),
                            latest_sequence=moto_patches.latest_stream_sequence,
                            release_iterator=moto_patches.release_shard_iterator,
                        )
                    )
                elif kind != "Api":
                    logger.warning("%s: event type %s is not emulated locally", name, kind)
        return mappings

    # ------------------------------------------------------------------ API

    def _build_gateway(self, provisioner: Provisioner) -> ApiGateway | None:
        from infrastructure.local.gateway import ApiGateway, Route, web_acl_rules_for

        if not provisioner.apis:
            return None
        api_logical_id, api = next(iter(provisioner.apis.items()))
        if len(provisioner.apis) > 1:
            logger.warning("only %s is served locally (the template has several APIs)", api_logical_id)
        api_id = self.template.ref(api_logical_id)
        auth = api.get("Auth") or {}
        default_authorizer = auth.get("DefaultAuthorizer")
        routes = []
        timeouts: dict[str, float] = {}
        for logical_id, props in provisioner.functions.items():
            for event_name, event in (props.get("Events") or {}).items():
                source = event.get("Properties") or {}
                if event.get("Type") != "Api" or source.get("RestApiId", api_id) != api_id:
                    continue
                authorizer = (source.get("Auth") or {}).get("Authorizer", default_authorizer)
                routes.append(
                    Route(
                        path=str(source["Path"]),
                        method=str(source["Method"]).upper(),
                        function=logical_id,
                        authorizer=None if authorizer in {None, "NONE"} else str(authorizer),
                        event_name=event_name,
                    )
                )
                timeouts[logical_id] = float(props.get("Timeout") or 3)
        return ApiGateway(
            api_id=str(api_id),
            stage=str(api.get("StageName") or "Prod"),
            account_id=ACCOUNT_ID,
            routes=routes,
            invoke=self._invoke_for_gateway,
            function_timeouts=timeouts,
            authorizers=self._authorizers(auth.get("Authorizers") or {}),
            cors=api.get("Cors"),
            gateway_responses=api.get("GatewayResponses"),
            method_settings=api.get("MethodSettings"),
            throttling=self.throttling,
            web_acl_rules=web_acl_rules_for(self.template, api_logical_id),
        )

    def _invoke_for_gateway(self, logical_id: str, event: dict[str, Any], timeout: float) -> Any:
        if logical_id not in self.runtime.functions:
            from infrastructure.local.runtime import InvocationError

            raise InvocationError("Runtime.Unavailable", f"{logical_id} cannot run locally")
        return self.runtime.invoke(logical_id, event, timeout)

    def _authorizers(self, definitions: dict[str, Any]) -> dict[str, CognitoTokenVerifier]:
        import requests

        from infrastructure.local.auth import CognitoTokenVerifier, id_token_seconds

        authorizers = {}
        for name, definition in definitions.items():
            pool_arns = definition.get("UserPoolArn")
            if pool_arns is None:
                logger.warning("authorizer %s is not a Cognito authorizer; its routes answer 401 locally", name)
                continue
            pool_arn = pool_arns[0] if isinstance(pool_arns, list) else pool_arns
            pool_id = str(pool_arn).rsplit("/", 1)[-1]
            clients = [
                lid
                for lid in self.template.resources_of_type("AWS::Cognito::UserPoolClient")
                if lid in self.template.values and self.template.get_att(lid, "UserPoolId") == pool_id
            ]
            client_ids = [str(self.template.ref(lid)) for lid in clients]
            lifetimes = {
                str(self.template.ref(lid)): id_token_seconds(self.template.properties(lid)) for lid in clients
            }
            jwks_url = f"{self.moto_url}/{pool_id}/.well-known/jwks.json"

            def fetch(url: str = jwks_url) -> dict[str, Any]:
                response = requests.get(url, timeout=10)
                response.raise_for_status()
                jwks: dict[str, Any] = response.json()
                return jwks

            authorizers[name] = CognitoTokenVerifier(
                region=REGION,
                user_pool_id=pool_id,
                client_ids=client_ids,
                fetch_jwks=fetch,
                identity_header=str((definition.get("Identity") or {}).get("Header") or "Authorization"),
                id_token_seconds=lifetimes,
            )
        return authorizers


__all__ = ["LocalStack", "TemplateError"]
