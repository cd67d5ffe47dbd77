"""Persists the local stack's data between runs by pickling moto's in-memory backends (and restoring them on start)."""

from __future__ import annotations

import io
import logging
import os
import pickle
import threading
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SERVICES = (
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
FORMAT_VERSION = 1

_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def _none() -> None:
    return None


def _load_private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem, password=None)


class _BackendPickler(pickle.Pickler):
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
            # A running Step Functions execution cannot be resumed; see restore() for how it is recorded.
            return (_none, ())
        if isinstance(obj, RSAPrivateKey):
            pem = obj.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
            return (_load_private_key, (pem,))
        return NotImplemented


def _moto_version() -> str:
    import moto

    return str(moto.__version__)


def _backend_dicts() -> dict[str, Any]:
    from moto.backends import get_backend
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    dicts: dict[str, Any] = {service: get_backend(service) for service in SERVICES}  # type: ignore[call-overload]
    # With execute_state_machine enabled, moto keeps Step Functions state in this second backend.
    dicts["stepfunctions-parser"] = stepfunctions_parser_backends
    return dicts


def save(path: Path, extra: dict[str, Any]) -> None:
    """Write every region backend of the stack's services, plus extra (checkpoints, ...), atomically to path."""
    backends: dict[str, dict[str, dict[str, Any]]] = {}
    for service, backend_dict in _backend_dicts().items():
        backends[service] = {
            account: dict(regions.items()) for account, regions in backend_dict.items() if len(regions)
        }
    buffer = io.BytesIO()
    _BackendPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(
        {"format": FORMAT_VERSION, "moto": _moto_version(), "backends": backends, "extra": extra}
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
    if data.get("format") != FORMAT_VERSION or data.get("moto") != _moto_version():
        logger.warning("ignoring snapshot %s written by another moto version; starting from empty state", path)
        return None
    backend_dicts = _backend_dicts()
    for service, accounts in data["backends"].items():
        backend_dict = backend_dicts[service]
        for account, regions in accounts.items():
            for region, backend in regions.items():
                backend_dict[account][region] = backend
    extra: dict[str, Any] = data.get("extra") or {}
    extra["interrupted_executions"] = _take_interrupted_executions()
    return extra


def _take_interrupted_executions() -> list[dict[str, str]]:
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
