"""Every public name of every subpackage exists and documents itself; the CLI lists every stage."""

import importlib
import inspect

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
