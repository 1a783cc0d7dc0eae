"""Package attributes imported on first use (PEP 562), so that importing a package costs only what is used.

``musicneurons --help`` imports every subsystem's ``commands`` module, hence every subpackage; with eager
``__init__`` files that meant torch, scipy and pandas before the first line of help. A package instead
writes its public names once, as ordinary imports inside ``if TYPE_CHECKING:`` (type checkers and readers
see them; Python skips them), and ends with::

    lazy_exports(__name__, __file__)

which reads those imports from the package's source and imports a name's module on first access
(``from musicneurons.melody import read_melodies`` works as before). The idea of the scientific-python
``lazy_loader``'s stub files, without a second file and with the one case lazy loading otherwise breaks:
a public name that is also a submodule's name (``musicneurons.features.catalogue``, the function in
``features/catalogue.py``). Importing a submodule sets the package attribute of its name to the module;
:class:`LazyPackage` keeps the exported object there instead, as an eager ``__init__`` did.
"""

from __future__ import annotations

import ast
import importlib
import sys
import types
from pathlib import Path
from typing import Any

__all__ = ["lazy_exports", "type_checking_imports", "LazyPackage"]


def type_checking_imports(source: str) -> dict[str, tuple[str, str]]:
    """The names a module imports under ``if TYPE_CHECKING:``.

    Parameters
    ----------
    source : str
        Python source of the module.

    Returns
    -------
    dict of str to (str, str)
        Bound name -> (module as written, relative ones with their leading dots; attribute in it).
    """
    names = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom):
                    module = "." * statement.level + (statement.module or "")
                    for alias in statement.names:
                        names[alias.asname or alias.name] = (module, alias.name)
    return names


class LazyPackage(types.ModuleType):
    """The class of a package made lazy by :func:`lazy_exports`; its exports are in ``__lazy_exports__``."""

    __lazy_exports__: dict[str, tuple[str, str]]

    def __getattr__(self, name: str) -> Any:
        exports = self.__dict__.get("__lazy_exports__", {})
        if name not in exports:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        module, attribute = exports[name]
        value = getattr(importlib.import_module(module, self.__name__), attribute)
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        shadowed = isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}"
        if shadowed and name in self.__dict__.get("__lazy_exports__", {}):
            self.__dict__.pop(name, None)
            value = self.__getattr__(name)
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(self.__dict__) | set(self.__dict__.get("__lazy_exports__", {})))


def lazy_exports(package: str, init_file: str) -> None:
    """Make the package ``package`` import its public names on first access.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    init_file : str
        Its ``__file__``; the names are its imports under ``if TYPE_CHECKING:``.
    """
    module = sys.modules[package]
    module.__dict__["__lazy_exports__"] = type_checking_imports(Path(init_file).read_text(encoding="utf-8"))
    module.__class__ = LazyPackage
