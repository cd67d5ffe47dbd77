"""Everything the PRM changes in, or reads from, moto's internals: written for one moto version, refused on another.

No other module of the local stack or the test support imports from moto beyond its public `mock_aws` and
`moto.server.ThreadedMotoServer` (tests/infra/test_moto_patches.py checks). `apply()` checks the installed moto first
and raises MotoVersionError naming both versions; so does the first backend read. To upgrade moto: pin it in
requirements/dev.in, re-read each patch below against moto's new source, then set WRITTEN_FOR (the test compares it
with the lock).

What `apply()` changes, process-wide and idempotently (the local stack, in-process moto tests and the benchmarks):

1. DynamoDB is atomic as in AWS. moto checks a condition and then writes in separate steps, so two threads (the
   moto server's request threads, or test threads in-process) could both pass a condition only one should:
   moto's DynamoDB actions run one at a time. moto applies a transaction's items one by one and, when one fails,
   restores a copy of each table, but the records the applied items added to the table's stream stay on the live
   shard readers hold, so a cancelled transaction would publish events for changes that never happened: after a
   failed transaction the shard is cut back. And instead of moto's rollback copy of each whole table (items and
   stream history) per action, whose cost grew with the table, a transaction keeps an undo record of the items it
   touches (moto reads each one before it writes it) and puts exactly those back when it fails.
2. moto keeps only the model objects still in use. `BaseModel.__new__` appends each instance to its class's
   `instances_tracked` list (for the /moto-api dashboard and S3's reset) and nothing removes it until a reset, so
   every item version, stream record, message and execution stayed for the life of the process (100 auto-approved
   deals took the stack from 270 MB to 8.3 GB). The lists hold weak references instead.
3. Step Functions programs without `TimeoutSeconds` run on the thread that would only wait for them, and so does a
   `waitForTaskToken` Task without `HeartbeatSeconds`, whose wait for the callback already ends at the Task's
   timeout with the same `States.Timeout`: an execution waiting for an approver holds 1 thread, not 3.
4. Cognito's `RevokeToken` (the portal's sign-out), which moto does not implement: the refresh token stops working,
   as in AWS with the app client's token revocation enabled; the user's other sessions keep theirs.
5. Cognito's tokens last what their app client says. moto signs every ID and access token for an hour (`exp` = `iat`
   + 3600, `ExpiresIn` 3600) and ignores the client's `IdTokenValidity`, `AccessTokenValidity` and
   `TokenValidityUnits`, which it stores: `exp` (and `ExpiresIn`, the access token's lifetime) follow them, as in
   AWS, so a client that refreshes by `exp` agrees with the API Gateway emulator (template: 5 minutes).
6. Step Functions' `SendTaskHeartbeat` answers whether a task still waits on a token, as in AWS: moto refuses
   (InvalidToken) every token of a `waitForTaskToken` Task without `HeartbeatSeconds`, and accepts a stopped
   execution's (StopExecution leaves it RUNNING until its Task's wait ends); a waiting Task's token is accepted, a
   stopped execution's or an ended Task's is TaskTimedOut. Approvals asks before a pending approval takes a new token.

Opt-in, for benchmarks against large tables: `apply_query_shortcuts()` runs apply() and then lets a Query list only
what it can read, which changes no answer (tests/infra/test_moto_patches.py checks; `plain_query()` turns it off for a
comparison), and `item_size_unchecked()` skips moto's 400 KB item-size check while loading items known to be smaller.

The rest hands out moto's backends (snapshots, the mail viewer, timers, the Cognito guard, stream pollers, tests).
"""

from __future__ import annotations

import copy
import functools
import logging
import pickle
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any

WRITTEN_FOR = "5.2.5"
DEFAULT_ACCOUNT = "123456789012"  # moto's default account (moto.core.DEFAULT_ACCOUNT_ID)

_INSTALL_LOCK = threading.RLock()


class MotoVersionError(RuntimeError):
    """The installed moto is not the version these patches were written for."""


def installed_version() -> str:
    return metadata.version("moto")


def check_version() -> None:
    """Raise MotoVersionError unless the installed moto is WRITTEN_FOR."""
    installed = installed_version()
    if installed != WRITTEN_FOR:
        raise MotoVersionError(
            f"infrastructure/local/moto_patches.py was written for moto {WRITTEN_FOR}, but moto {installed} is "
            f"installed: install requirements/dev.lock (`make venv`), or re-check every patch against moto {installed} "
            "and set WRITTEN_FOR"
        )


@functools.cache
def _require_checked() -> None:
    """check_version() once per process for the backend reads (a failed check is not cached: it fails every time)."""
    check_version()


def apply() -> None:
    """Check the moto version, then make the changes above (idempotent)."""
    check_version()
    with _INSTALL_LOCK:
        _serialise_dynamodb()
        _track_instances_weakly()
        _run_programs_inline()
        _wait_for_callbacks_inline()
        _revoke_refresh_tokens()
        _tokens_last_the_clients_validity()
        _heartbeats_reach_callbacks_without_a_heartbeat()


# ------------------------------------------------------------------------------------------ 1. DynamoDB atomicity

_DYNAMODB_LOCK = threading.RLock()
_UNDO = threading.local()  # per thread: a stack of {(table, hash key, range key): item before, or None}


def _serialise_dynamodb() -> None:
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler, "_prm_atomic", False):
        return
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _DYNAMODB_LOCK:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    DynamoHandler._prm_atomic = True  # type: ignore[attr-defined]
    _transactions_copy_only_what_they_touch()
    _transactions_leave_no_stream_records()


def _undo_stack() -> list[dict[tuple[str, Any, Any], Any]]:
    stack: list[dict[tuple[str, Any, Any], Any]] | None = getattr(_UNDO, "stack", None)
    if stack is None:
        stack = _UNDO.stack = []
    return stack


def _transactions_copy_only_what_they_touch() -> None:
    from types import SimpleNamespace

    from moto.dynamodb import models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    def deepcopy(value: Any, memo: Any = None) -> Any:
        # transact_write_items' "backup" of each table: keep the live table (the undo record restores its items).
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    backend_module.copy = SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[assignment]
    original_get_item = DynamoDBBackend.get_item

    def get_item(self: Any, table_name: str, keys: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        found = original_get_item(self, table_name, keys, *args, **kwargs)
        stack = _undo_stack()
        if stack:  # inside a transaction, which reads every item before it changes it: remember it as it was
            table = self.get_table(table_name)
            hash_key, range_key = self.get_keys_value(table, keys)
            stack[-1].setdefault((table_name, hash_key, range_key), copy.deepcopy(found))
        return found

    DynamoDBBackend.get_item = get_item  # type: ignore[method-assign]


def _undo(backend: Any, record: dict[tuple[str, Any, Any], Any]) -> None:
    for (table_name, hash_key, range_key), before in reversed(list(record.items())):
        table = backend.get_table(table_name)
        if table.range_key_attr is None:
            if before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before
            continue
        items = table.items[hash_key]
        if before is None:
            items.pop(range_key, None)
            if not items:
                table.items.pop(hash_key, None)
        else:
            items[range_key] = before


def _transactions_leave_no_stream_records() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        shards = {}
        for name, table in self.tables.items():
            shard = getattr(table, "stream_shard", None)
            if shard is not None:
                shards[name] = (shard, len(shard.items))
        stack = _undo_stack()
        stack.append({})
        try:
            return original(self, transact_items)
        except Exception:
            _undo(self, stack[-1])
            for name, (shard, length) in shards.items():
                del shard.items[length:]  # the records of writes the rollback undid
                restored = self.tables.get(name)
                if restored is not None and restored is not shard.table:
                    shard.table = restored  # readers keep their shard; the restored table writes to it again
                    restored.stream_shard = shard
            raise
        finally:
            stack.pop()

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# ------------------------------------------------------------------------------------------ 2 and 3. memory, threads


class WeakInstances:
    """Stands in for a model class's `instances_tracked` list: append, iterate and len, over live objects only."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._refs: dict[int, weakref.ref[Any]] = {}
        self._strong: list[Any] = []  # objects that cannot be weakly referenced (none of moto's models today)
        for item in items:
            self.append(item)

    def append(self, instance: Any) -> None:
        """Remember instance until it is garbage."""
        key = id(instance)
        refs = self._refs

        def forget(_ref: weakref.ref[Any]) -> None:
            refs.pop(key, None)

        try:
            refs[key] = weakref.ref(instance, forget)
        except TypeError:
            self._strong.append(instance)

    def _live(self) -> list[Any]:
        while True:
            try:
                refs = list(self._refs.values())
                break
            except RuntimeError:  # a callback removed an entry while we copied
                continue
        return [item for ref in refs if (item := ref()) is not None] + list(self._strong)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._live())

    def __len__(self) -> int:
        return len(self._live())


def _track_instances_weakly() -> None:
    from moto.core.common_models import BaseModel

    if getattr(BaseModel, "_prm_weak_tracking", False):
        return
    original = BaseModel.__new__

    def __new__(cls: type[Any], *args: Any, **kwargs: Any) -> Any:
        tracked = cls.__dict__.get("instances_tracked")
        if not isinstance(tracked, WeakInstances):
            # The metaclass gives each class a list; moto's reset_model_data() replaces it with a new one.
            cls.instances_tracked = WeakInstances(tracked or ())
        return original(cls, *args, **kwargs)

    BaseModel.__new__ = staticmethod(__new__)  # type: ignore[method-assign]
    BaseModel._prm_weak_tracking = True  # type: ignore[attr-defined]


def _run_programs_inline() -> None:
    # moto evaluates every program (an execution, each Map iteration and Parallel branch) on a new thread and then
    # waits for it; with no `TimeoutSeconds` that waiting thread does nothing, so the program runs on it instead.
    # Programs with a `TimeoutSeconds` keep moto's thread (it enforces the timeout).
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.program.program import Program

    if getattr(Program, "_prm_inline", False):
        return
    threaded = Program.eval

    def eval(self: Any, env: Any) -> None:
        if self.timeout_seconds:
            threaded(self, env)
            return
        env.next_state_name = self.start_at.start_at_name
        try:
            EvalComponent.eval(self, env)
        except Exception:  # moto's thread would have died with it (and logged it): the caller goes on
            logging.getLogger(__name__).exception("a Step Functions program failed")

    Program.eval = eval  # type: ignore[method-assign]
    Program._prm_inline = True  # type: ignore[attr-defined]


def _wait_for_callbacks_inline() -> None:
    # moto evaluates every Task with a timeout on a new thread and waits for it up to the timeout. A waitForTaskToken
    # Task without a heartbeat spends that time in `CallbackEndpoint.wait(timeout)`, which ends at the same timeout
    # and raises CallbackTimeoutError (a TimeoutError, reported as States.Timeout exactly like moto's
    # EvalTimeoutError), so it can run on the execution's own thread. This is moto's `_evaluate_with_timeout`
    # (moto 5.2.5) with the thread's target called in place.
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )

    if getattr(ExecutionState, "_prm_inline_callbacks", False):
        return
    threaded = ExecutionState._evaluate_with_timeout

    def evaluate_with_timeout(self: Any, env: Any) -> None:
        if not (
            isinstance(self, StateTaskServiceCallback)
            and getattr(self.resource, "condition", None) == ResourceCondition.WaitForTaskToken
            and self.heartbeat is None
        ):
            threaded(self, env)
            return
        self.timeout.eval(env=env)
        env.stack.pop()  # the timeout: the callback wait applies it
        frame = env.open_frame()
        frame.states.reset(input_value=env.states.get_input())
        frame.stack = copy.deepcopy(env.stack)
        try:
            self._eval_execution(frame)
        finally:
            frame.set_ended()
            env.close_frame(frame)
        execution_output = frame.stack.pop()
        env.stack.append(execution_output)
        if not self._is_language_query_jsonpath():
            env.states.set_result(execution_output)
        if self.assign_decl:
            self.assign_decl.eval(env=env)
        if self.result_selector:
            self.result_selector.eval(env=env)
        if self.result_path:
            self.result_path.eval(env)
        else:
            env.states.reset(input_value=env.stack.pop())

    ExecutionState._evaluate_with_timeout = evaluate_with_timeout  # type: ignore[method-assign]
    ExecutionState._prm_inline_callbacks = True  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ 4. Cognito RevokeToken


def _revoke_refresh_tokens() -> None:
    # moto 5.2.5 answers RevokeToken "not yet implemented". AWS revokes the refresh token (and the access tokens it
    # issued) when the app client has token revocation enabled (refused otherwise), with its secret when it has one,
    # and the token was issued to that client: a token of another client is refused, an unknown or
    # already revoked one is answered 200 as if revoked (RFC 7009), so the answer tells nothing about a token. moto
    # keeps a pool's refresh tokens as {token: (client id, username, origin jti)}, None once signed out; its access
    # tokens carry no origin, and the PRM's API reads ID tokens only (their expiry, 5 minutes, still applies).
    from moto.cognitoidp.exceptions import InvalidParameterException, ResourceNotFoundError
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import EmptyResult

    if getattr(CognitoIdpResponse, "_prm_revoke_token", False):
        return

    def revoke_token(self: Any) -> Any:
        token, client_id = self._get_param("Token"), self._get_param("ClientId")
        if not isinstance(token, str) or not token or not isinstance(client_id, str) or not client_id:
            raise InvalidParameterException("Token and ClientId are required.")
        pool = next((p for p in user_pools() if client_id in p.clients), None)
        if pool is None:
            raise ResourceNotFoundError(client_id)
        client = pool.clients[client_id]
        if not client.extended_config.get("EnableTokenRevocation", True):
            raise JsonRESTError("UnsupportedOperationException", "Token revocation is not enabled for this client.")
        if client.generate_secret and self._get_param("ClientSecret") != client.secret:
            raise JsonRESTError("NotAuthorizedException", "Client secret is missing or does not match.")
        issued = pool.refresh_tokens.get(token)
        if issued is not None:
            if issued[0] != client_id:
                raise JsonRESTError("UnauthorizedException", "The token was not issued to this client.")
            pool.refresh_tokens[token] = None
        return EmptyResult()

    CognitoIdpResponse.revoke_token = revoke_token  # type: ignore[attr-defined]
    CognitoIdpResponse._prm_revoke_token = True  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ 5. Cognito token lifetimes

_TOKEN_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def token_validity_seconds(client_config: dict[str, Any], token: str) -> int:
    """How long Cognito makes an app client's `token` ("IdToken" or "AccessToken") last: its `<token>Validity` in
    `TokenValidityUnits[token]` (hours by default); 1 hour when the client sets no validity."""
    validity = client_config.get(f"{token}Validity")
    if validity is None:
        return 3600
    units = str((client_config.get("TokenValidityUnits") or {}).get(token) or "hours")
    return int(validity) * _TOKEN_UNIT_SECONDS[units]


def _tokens_last_the_clients_validity() -> None:
    # moto 5.2.5: CognitoIdpUserPool.create_jwt(client_id, username, token_use, expires_in=3600, extra_data) signs
    # both ID and access tokens and returns (token, expires_in); create_id_token / create_access_token call it without
    # expires_in, and every sign-in or refresh answers the access token's expires_in as ExpiresIn. The client's
    # validity settings are kept, as given, in CognitoIdpUserPoolClient.extended_config.
    from moto.cognitoidp.models import CognitoIdpUserPool

    if getattr(CognitoIdpUserPool, "_prm_token_validity", False):
        return
    original = CognitoIdpUserPool.create_jwt
    token_names = {"id": "IdToken", "access": "AccessToken"}

    def create_jwt(
        self: Any,
        client_id: str,
        username: str,
        token_use: str,
        expires_in: int = 60 * 60,
        extra_data: dict[str, Any] | None = None,
    ) -> tuple[str, int]:
        client = self.clients.get(client_id)
        if client is not None and token_use in token_names:
            expires_in = token_validity_seconds(client.extended_config, token_names[token_use])
        result: tuple[str, int] = original(self, client_id, username, token_use, expires_in, extra_data)
        return result

    CognitoIdpUserPool.create_jwt = create_jwt  # type: ignore[method-assign]
    CognitoIdpUserPool._prm_token_validity = True  # type: ignore[attr-defined]


# ---------------------------------------------------------------- 6. heartbeats on callbacks without HeartbeatSeconds


def _heartbeats_reach_callbacks_without_a_heartbeat() -> None:
    # moto 5.2.5: StepFunctionsParserBackend.send_task_heartbeat asks each RUNNING execution's
    # env.callback_pool_manager.heartbeat(token), which returns CallbackEndpoint.notify_heartbeat(): False when the
    # Task set up no heartbeat endpoint (no HeartbeatSeconds), and the call ends with InvalidToken. And StopExecution
    # only marks the program stopped: the execution stays RUNNING, its Task's callback in the pool, until the wait ends.
    # Here a callback still waits if its execution's program runs and nothing notified or interrupted it (a Task's
    # end, by outcome or timeout, sets its event); a stopped execution's or an ended Task's token is TaskTimedOut, as
    # AWS answers for a task that no longer exists; an unknown token is still InvalidToken.
    from moto.stepfunctions.exceptions import AWSError, InvalidToken
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    if getattr(StepFunctionsParserBackend, "_prm_heartbeat", False):
        return

    class TaskTimedOut(AWSError):  # the parser's own exception classes answer without an error code
        TYPE = "TaskTimedOut"
        STATUS = 400

    original = StepFunctionsParserBackend.send_task_heartbeat

    def send_task_heartbeat(self: Any, task_token: str) -> Any:
        for execution in self._get_executions(ExecutionStatus.RUNNING):
            env = execution.exec_worker.env
            endpoint = env.callback_pool_manager.get(task_token)
            if endpoint is None:
                continue
            if not env.is_running() or endpoint._notify_event.is_set():
                raise TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'")
            if endpoint._heartbeat_endpoint is not None:
                return original(self, task_token)  # resets the Task's heartbeat clock (or says why not)
            if endpoint.consumer_error is not None:
                return original(self, task_token)
            return None  # it waits: nothing to reset on a Task without HeartbeatSeconds
        raise InvalidToken("Invalid Token: 'Invalid token'")

    StepFunctionsParserBackend.send_task_heartbeat = send_task_heartbeat  # type: ignore[method-assign]
    StepFunctionsParserBackend._prm_heartbeat = True  # type: ignore[attr-defined]


def step_functions_threads() -> int:
    """How many threads moto's Step Functions interpreter has running (executions, Tasks with a timeout, branches)."""
    _require_checked()
    from moto.stepfunctions.parser.utils import TMP_THREADS

    return sum(1 for thread in list(TMP_THREADS) if thread.is_alive())


def prune_finished_threads() -> int:
    """moto's Step Functions interpreter appends every thread it starts (several per state) to a module-level list
    that nothing empties outside its test helpers; drop the finished ones (about 2 KB each). Returns how many."""
    _require_checked()
    from moto.stepfunctions.parser.utils import TMP_THREADS

    before = len(TMP_THREADS)
    # Slice assignment keeps the list object that moto's modules imported by name.
    TMP_THREADS[:] = [thread for thread in list(TMP_THREADS) if thread.is_alive()]
    return before - len(TMP_THREADS)


# ------------------------------------------------------------------------------------------ opt-in: benchmark shortcuts

_PLAIN_QUERY = threading.Event()  # set inside plain_query(): every Query runs as moto wrote it


def apply_query_shortcuts() -> None:
    """apply(), then remove two costs of moto's Query that DynamoDB does not have, without changing any answer.

    moto answers a Query on a table with a sort key by listing and sorting every item of the table (Table.query ->
    all_items()): about a second per Query at 70,000 items, so a benchmark's latency would measure the table's size.
    With this, a base-table Query lists only its own partition (moto then filters and sorts it as before), and an
    index Query skips that first sort (moto sorts the index's candidates again by the index keys and then the table's
    key, a total order). The listing is swapped in for one call on the table itself, which apply()'s DynamoDB lock
    keeps to one Query at a time. Inside `plain_query()` moto's own Query runs, to check that nothing changed.
    """
    apply()
    with _INSTALL_LOCK:
        _query_lists_only_what_it_reads()


@contextmanager
def plain_query() -> Iterator[None]:
    """moto's own full-table Query while inside, with or without apply_query_shortcuts()."""
    _PLAIN_QUERY.set()
    try:
        yield
    finally:
        _PLAIN_QUERY.clear()


def _query_lists_only_what_it_reads() -> None:
    import inspect

    from moto.dynamodb.models.table import Table

    if getattr(Table, "_prm_query_shortcuts", False):
        return
    original = getattr(Table.query, "_prm_original", Table.query)  # moto's own, even if a test put ours back
    index_position = list(inspect.signature(original).parameters).index("index_name")

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _PLAIN_QUERY.is_set() or not self.range_key_attr:
            return original(self, *args, **kwargs)
        hash_key = args[0] if args else kwargs.get("hash_key")
        index_name = args[index_position - 1] if len(args) >= index_position else kwargs.get("index_name")
        if index_name is None and hash_key is not None:
            partition = list(self.items.get(hash_key, {}).values())
            self.all_items = lambda: partition
        else:
            self.all_items = lambda: [item for found in self.items.values() for item in found.values()]
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items

    query._prm_original = original  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]
    Table._prm_query_shortcuts = True  # type: ignore[attr-defined]


@contextmanager
def item_size_unchecked() -> Iterator[None]:
    """While inside, moto does not check the 400 KB item-size limit (only for loading items known to be far smaller).

    moto re-measures the whole item for every attribute it stores, which is quadratic in an item's attributes.
    """
    _require_checked()
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    checked = LimitedSizeDict.__setitem__
    LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign]
    try:
        yield
    finally:
        LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]


# ------------------------------------------------------------------------------------------ the server


def mock_aws_active() -> bool:
    """Whether moto's in-process mock (mock_aws) is on in this process."""
    from moto.core.models import botocore_stubber

    return bool(botocore_stubber.enabled)


def moto_server(
    ip_address: str, port: int, wrap_app: Callable[[str, Any], Any], middleware: Callable[[Any], Any] | None = None
) -> Any:
    """moto's ThreadedMotoServer whose per-service Flask apps pass through wrap_app(service, app) first.

    `middleware`, when given, wraps the whole WSGI application (the cost meter counts every call there).
    """
    _require_checked()
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    def create_app(service: Any) -> Any:
        return wrap_app(str(service), create_backend_app(service))

    class WrappedMotoServer(ThreadedMotoServer):
        # ThreadedMotoServer._server_entry with our application factory.
        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_app)
            if middleware is not None:
                app = middleware(app)
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return WrappedMotoServer(ip_address=ip_address, port=port, verbose=False)


def normalize_request(flask_request: Any) -> Any:
    """moto's view of a Flask request (the URL as it arrived in `raw_url`)."""
    from moto.core.request import normalize_request as normalize

    return normalize(flask_request)


def cognito_action(request: Any) -> str | None:
    """The cognito-idp action moto's dispatch will run for this request, read as moto reads it (None if unknown).

    moto takes an `Action` from the query, form, body or headers before X-Amz-Target, and only X-Amz-Target's last
    dotted part.
    """
    from moto.cognitoidp.responses import CognitoIdpResponse

    try:
        response = CognitoIdpResponse()
        response.setup_class(request)
        action = response._get_action()
    except Exception:  # whatever moto cannot parse, it will not run as a public action either
        return None
    return action if isinstance(action, str) else None


# ------------------------------------------------------------------------------------------ backends


def user_pools() -> list[Any]:
    """Every Cognito user pool moto holds, in every account and region."""
    _require_checked()
    from moto.cognitoidp.models import cognitoidp_backends

    pools: list[Any] = []
    for account in list(cognitoidp_backends.values()):
        for backend in list(account.values()):
            pools += list(backend.user_pools.values())
    return pools


def user_pool(pool_id: str, region: str, account: str = DEFAULT_ACCOUNT) -> Any:
    _require_checked()
    from moto.cognitoidp.models import cognitoidp_backends

    return cognitoidp_backends[account][region].user_pools[pool_id]


def mark_signed_in(user: Any) -> None:
    """A pool user as one who has signed in: confirmed and enabled."""
    from moto.cognitoidp.models import UserStatus

    user.status, user.enabled = UserStatus.CONFIRMED, True


def ses_backend(region: str, account: str = DEFAULT_ACCOUNT) -> Any:
    """moto's SES backend (SESv1 and SESv2 both record sent mail in its `sent_messages`)."""
    _require_checked()
    from moto.ses.models import ses_backends

    return ses_backends[account][region]


def sqs_queue_created(queue_url: str, region: str, account: str = DEFAULT_ACCOUNT) -> str | None:
    """When moto created the queue behind queue_url, or None if there is none: read in-process, where a local stack's
    poller would otherwise ask moto's HTTP server before every receive (most of an idle stack's requests)."""
    _require_checked()
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[account][region].queues.get(queue_url.rstrip("/").rsplit("/", 1)[-1])
    return None if queue is None else repr(queue.created_timestamp)


def scheduler_backend(region: str, account: str = DEFAULT_ACCOUNT) -> Any:
    _require_checked()
    from moto.scheduler.models import scheduler_backends

    return scheduler_backends[account][region]


def dynamodb_lock() -> threading.RLock:
    """The lock every DynamoDB action of the moto server runs under (reentrant: the meter holds it around a call)."""
    return _DYNAMODB_LOCK


def dynamodb_item(
    table_name: str, key_or_item: dict[str, Any], region: str, account: str = DEFAULT_ACCOUNT
) -> dict[str, Any] | None:
    """The stored item (DynamoDB JSON) with the primary key of `key_or_item` (a key or a whole item), or None."""
    _require_checked()
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        table = dynamodb_backends[account][region].get_table(table_name)
        hash_key = DynamoType(key_or_item[table.hash_key_attr])
        range_key = DynamoType(key_or_item[table.range_key_attr]) if table.range_key_attr else None
        item = table.get_item(hash_key, range_key)
    except Exception:  # no such table or key: nothing stored
        return None
    if item is None:
        return None
    attributes: dict[str, Any] = item.to_json()["Attributes"]
    return attributes


def dynamodb_indexes(table_name: str, region: str, account: str = DEFAULT_ACCOUNT) -> list[dict[str, Any]]:
    """The table's global secondary indexes: [{name, keys: [attribute names], projection: {...}}] ([] if none)."""
    _require_checked()
    from moto.dynamodb.models import dynamodb_backends

    try:
        table = dynamodb_backends[account][region].get_table(table_name)
    except Exception:
        return []
    return [
        {
            "name": index.name,
            "keys": [k["AttributeName"] for k in index.schema],
            "table_keys": [k for k in (table.hash_key_attr, table.range_key_attr) if k],
            "projection": dict(index.projection or {}),
        }
        for index in (table.global_indexes or [])
    ]


def stream_shard(stream_arn: str) -> Any:
    """The shard of a DynamoDB table's stream (moto keeps one per table), or None."""
    _require_checked()
    from moto.dynamodb.models import dynamodb_backends

    # arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>
    parts = stream_arn.split(":", 5)
    region, account, table_name = parts[3], parts[4], parts[5].split("/")[1]
    try:
        return dynamodb_backends[account][region].get_table(table_name).stream_shard
    except Exception:
        return None


def latest_stream_sequence(stream_arn: str) -> int | None:
    """The SequenceNumber of the newest record in the table's stream, or None."""
    shard = stream_shard(stream_arn)
    if shard is None or not shard.items:
        return None
    return int(shard.starting_sequence_number) + len(shard.items) - 1


def release_shard_iterator(iterator_arn: str) -> None:
    """moto keeps every shard iterator forever; pollers create several a second, so each is dropped once used."""
    _require_checked()
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    for regions in dynamodbstreams_backends.values():
        for backend in regions.values():
            backend.shard_iterators.pop(iterator_arn, None)


# ------------------------------------------------------------------------------------------ snapshots

SNAPSHOT_SERVICES = (
    "dynamodb",
    "sqs",
    "events",
    "stepfunctions",
    "scheduler",
    "cognito-idp",
    "secretsmanager",
    "ses",
    "sesv2",
    "s3",
)
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def _none() -> None:
    return None


def _load_private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem, password=None)


class BackendPickler(pickle.Pickler):
    """Pickles moto backends: locks and conditions are recreated, live threads dropped, RSA keys kept as PEM."""

    def reducer_override(self, obj: Any) -> Any:
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

        if isinstance(obj, _LOCK_TYPES):
            return (type(obj), ())
        if isinstance(obj, threading.Condition):
            return (threading.Condition, ())
        if isinstance(obj, threading.Event):
            return (threading.Event, ())
        if isinstance(obj, threading.Thread) or type(obj).__name__ == "ExecutionWorker":
            # A running Step Functions execution cannot be resumed; see take_interrupted_executions().
            return (_none, ())
        if isinstance(obj, RSAPrivateKey):
            pem = obj.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
            return (_load_private_key, (pem,))
        return NotImplemented


def _backend_dicts() -> dict[str, Any]:
    _require_checked()
    from moto.backends import get_backend
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    dicts: dict[str, Any] = {service: get_backend(service) for service in SNAPSHOT_SERVICES}  # type: ignore[call-overload]
    # With execute_state_machine enabled, moto keeps Step Functions state in this second backend.
    dicts["stepfunctions-parser"] = stepfunctions_parser_backends
    return dicts


def snapshot_backends() -> dict[str, dict[str, dict[str, Any]]]:
    """service -> account -> region -> backend, for every backend of the snapshot's services that holds a region."""
    return {
        service: {account: dict(regions.items()) for account, regions in backend_dict.items() if len(regions)}
        for service, backend_dict in _backend_dicts().items()
    }


def install_backends(backends: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Put backends (as snapshot_backends() returned them, unpickled) back into moto."""
    backend_dicts = _backend_dicts()
    for service, accounts in backends.items():
        for account, regions in accounts.items():
            for region, backend in regions.items():
                backend_dicts[service][account][region] = backend


def take_interrupted_executions() -> list[dict[str, str]]:
    """Remove the executions that were running when the stack stopped and return how to start them again.

    moto cannot resume an execution mid-state (its worker thread is gone), so the stack re-runs each one from the
    start with the same name and input; the PRM's tasks are idempotent (at-least-once), which makes that safe.
    """
    interrupted: list[dict[str, str]] = []
    backend_dicts = _backend_dicts()
    for regions in [*backend_dicts["stepfunctions"].values(), *backend_dicts["stepfunctions-parser"].values()]:
        for backend in regions.values():
            for state_machine in getattr(backend, "state_machines", []):
                executions = getattr(state_machine, "executions", [])
                for execution in list(executions):
                    if _is_running(execution):
                        executions.remove(execution)
                        interrupted.append(
                            {
                                "stateMachineArn": str(state_machine.arn),
                                "name": str(execution.name),
                                "input": str(getattr(execution, "execution_input", "{}")),
                            }
                        )
    return interrupted


def _is_running(execution: Any) -> bool:
    status = getattr(execution, "exec_status", None) or getattr(execution, "status", None)
    return str(getattr(status, "value", status)) == "RUNNING"
