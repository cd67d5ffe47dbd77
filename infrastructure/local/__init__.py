"""Local stack: runs the whole PRM from template.yaml on moto, with no AWS account."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infrastructure.local.stack import LocalStack

__all__ = ["LocalStack"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that the template and filter helpers load without moto and boto3.
    if name == "LocalStack":
        from infrastructure.local.stack import LocalStack

        return LocalStack
    raise AttributeError(name)
