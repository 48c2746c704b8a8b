"""Each public name says where a learner finds it: webhooklab.UsageError, not webhooklab._errors.UsageError.

A traceback, a repr and help() print a class's `__module__`, so every package that
exports names sets it to itself (as httpx does for its own). A class's annotations
are strings under `from __future__ import annotations`, read later in the module
that `__module__` names; they are resolved first, in the module that defined them,
so typing.get_type_hints() (and what builds on it, such as pydantic) keeps working.

The course's packages (the `lab` extra: ipywidgets, matplotlib) are imported on first use through
`course()`, so webhooklab imports, receives and tests with only its core installed.
"""

from __future__ import annotations

import importlib
import sys

LAB = "pip install 'webhooklab[lab]'"


def claim(namespace: dict, package: str) -> None:
    """Set `__module__` to `package` on each class and function in `namespace["__all__"]`."""
    for name in namespace["__all__"]:
        value = namespace[name]
        if isinstance(value, type):
            _resolve_annotations(value)
        if callable(value) and hasattr(value, "__module__"):
            value.__module__ = package


def _resolve_annotations(cls: type) -> None:
    own = cls.__dict__.get("__annotations__", {})
    home = vars(sys.modules[cls.__module__])
    for name, hint in own.items():
        if isinstance(hint, str):
            try:
                own[name] = eval(hint, home, dict(vars(cls)))  # noqa: S307 (the package's own annotations)
            except Exception:  # a name imported only for type checkers: left as the text it is
                pass


def course(module: str, what: str):
    """`module`, one of the course's packages, or a ModuleNotFoundError that says which install brings it."""
    return optional(module, lambda name: ModuleNotFoundError(
        f"{what} need the course's packages, which this install does not have: {LAB} (then restart the kernel)",
        name=name))  # fmt: skip


def optional(module: str, missing):
    """`module`, from an extra; when it is not installed, the error `missing(name)` makes, which names the extra.

    A package that is installed but lacks one of its own dependencies keeps its own error, which says what.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] != module.partition(".")[0]:
            raise
        raise missing(error.name) from None
