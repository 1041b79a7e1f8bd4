"""Subnet task suites: one module per task type behind :class:`TaskSuite`."""

from __future__ import annotations

from importlib import import_module

from moderntensor.errors import InvalidInputError
from moderntensor.subnets.base import Challenge, ReferenceModel, TaskSuite

# task type -> "module:Class"; genesis subnets 1-4 use the first four.
SUITES: dict[str, str] = {
    "text-generation": "moderntensor.subnets.text:TextSuite",
    "image-generation": "moderntensor.subnets.image:ImageSuite",
    "code-generation": "moderntensor.subnets.code:CodeSuite",
    "audio": "moderntensor.subnets.audio:AudioSuite",
}

__all__ = ["SUITES", "Challenge", "ReferenceModel", "TaskSuite", "load_suite"]


def load_suite(task_type_or_path: str) -> TaskSuite:
    """The suite for a task type ("text-generation") or a custom "package.module:Class"."""
    path = SUITES.get(task_type_or_path, task_type_or_path)
    module_name, _, class_name = path.partition(":")
    if not class_name:
        raise InvalidInputError(
            f"unknown task type {task_type_or_path!r}; known: {sorted(SUITES)} "
            "(or give a custom suite as 'package.module:ClassName')",
            code="unknown_task_type",
        )
    try:
        suite_class = getattr(import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise InvalidInputError(f"cannot load suite {path!r}: {exc}",
                                code="unknown_task_type") from None
    if not (isinstance(suite_class, type) and issubclass(suite_class, TaskSuite)):
        raise InvalidInputError(f"{path!r} is not a TaskSuite subclass", code="unknown_task_type")
    return suite_class()
