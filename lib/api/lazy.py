"""Package re-exports imported on first use: the packages' ``__init__`` files name what
they offer without importing it all whenever one light submodule is imported."""
from __future__ import annotations

from importlib import import_module
from typing import Any, Callable


def lazy_names(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """A package's module ``__getattr__`` (PEP 562) that imports each re-exported name from
    its home module on first use, so importing one light submodule (``lib.api.untrusted``,
    ``lib.images.store``) does not bring in the package's heavy ones (issue 14)."""
    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(homes[name]), name)
    return __getattr__
