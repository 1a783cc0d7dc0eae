"""Every public name of every subpackage exists and documents itself; the CLI lists every stage and starts
without importing the heavy libraries (the subpackages import their names on first use)."""

import importlib
import inspect
import json
import subprocess
import sys

import pytest

from musicneurons.cli import build_parser

PACKAGES = [
    "musicneurons",
    "musicneurons.melody",
    "musicneurons.model",
    "musicneurons.features",
    "musicneurons.analysis",
    "musicneurons.errors",
    "musicneurons.tables",
    "musicneurons.pipeline",
    "musicneurons.interventions",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_exist_and_have_docstrings(name):
    module = importlib.import_module(name)
    assert module.__doc__
    for public in module.__all__:
        obj = getattr(module, public)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"{name}.{public} has no docstring"


def test_cli_has_every_stage():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {"run", "melodies", "random", "train", "import-magenta", "features", "analyse", "traverse"} <= set(
        sub.choices
    )


def test_top_level_entry_points():
    import musicneurons
    from musicneurons.model import load_model
    from musicneurons.pipeline import run_study

    assert musicneurons.run_study is run_study and musicneurons.load_model is load_model
    with pytest.raises(AttributeError):
        _ = musicneurons.no_such_name


LAZY_PACKAGES = [
    "musicneurons",
    "musicneurons.melody",
    "musicneurons.model",
    "musicneurons.features",
    "musicneurons.analysis",
    "musicneurons.interventions",
]
HEAVY = {"torch", "scipy", "pandas", "pyarrow", "numpy", "music21", "matplotlib"}
COMMANDS = [
    "run",
    "melodies",
    "random",
    "train",
    "encode",
    "features",
    "import-magenta",
    "fetch-magenta",
    "models",
    "analyse",
    "traverse",
]


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_lazy_package_exports_its_public_names_from_their_modules(name):
    package = importlib.import_module(name)
    exports = package.__lazy_exports__
    assert set(exports) == set(package.__all__) - {"__version__"}
    for public, (module, attribute) in exports.items():
        assert getattr(package, public) is getattr(importlib.import_module(module, name), attribute)
    assert set(exports) <= set(dir(package))
    with pytest.raises(AttributeError, match=f"module '{name}' has no attribute 'no_such_name'"):
        _ = package.no_such_name


def run_python(code):
    """Run ``code`` in a fresh interpreter (this one's environment) and return its stdout."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_importing_a_submodule_keeps_the_package_name_of_the_same_name():
    # features.catalogue and interventions.traverse are both a submodule and the function the package exports;
    # the submodules are imported first, as a stage's own code does, before the package names are read.
    out = run_python(
        "import musicneurons.features.catalogue, musicneurons.interventions.traverse\n"
        "from musicneurons.features import catalogue\n"
        "from musicneurons.interventions import traverse\n"
        "print(catalogue.__module__, catalogue.__name__, traverse.__module__, traverse.__name__)"
    )
    assert out.split() == [
        "musicneurons.features.catalogue",
        "catalogue",
        "musicneurons.interventions.traverse",
        "traverse",
    ]


def test_help_imports_none_of_the_heavy_libraries():
    # ``python -m musicneurons --help`` exactly, then the heavy libraries in sys.modules as the last line.
    out = run_python(
        "import runpy, sys\n"
        "sys.argv = ['musicneurons', '--help']\n"
        "try:\n"
        "    runpy.run_module('musicneurons', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        f"print(sorted({sorted(HEAVY)!r} & sys.modules.keys()))"
    )
    *help_lines, heavy = out.splitlines()
    assert heavy == "[]"
    assert help_lines[0].startswith("usage: musicneurons")
    listed = [line.split()[0] for line in help_lines if line.startswith("    ") and line[4] != " "]
    assert listed == COMMANDS


def test_every_command_help_imports_none_of_the_heavy_libraries():
    out = run_python(
        "import json, sys\n"
        "from musicneurons.cli import build_parser\n"
        "sub = next(a for a in build_parser()._actions if a.dest == 'command')\n"
        "helps = {name: parser.format_help() for name, parser in sub.choices.items()}\n"
        f"print(json.dumps([sorted(helps), sorted({sorted(HEAVY)!r} & sys.modules.keys())]))"
    )
    commands, heavy = json.loads(out)
    assert commands == sorted(COMMANDS) and heavy == []
