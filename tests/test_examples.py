"""Every gallery example runs in quick mode and draws its figure.

The examples under ``examples/`` are what the documentation shows (sphinx-gallery
runs them when the docs are built); here each one runs as a script, in a fresh
folder, with ``FAIRSK_EXAMPLES_QUICK=1`` (fewer epochs and rows) and matplotlib's
Agg backend, and must leave at least one figure open.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import sklearn
import torch
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
SHARED_DATA = Path(
    os.environ.get("FAIRSK_SHARED_DATA", ROOT.parent / "shared" / "data")
)
#: Examples that cannot run without the real ACS excerpts (others skip that part).
NEEDS_ACS = {"plot_acs_intersectional.py"}


def test_examples_are_found():
    assert len(EXAMPLES) >= 7, [p.name for p in EXAMPLES]


@pytest.fixture
def quick_mode(monkeypatch, tmp_path):
    """Quick mode in an empty folder, one thread, scikit-learn's config restored."""
    monkeypatch.setenv("FAIRSK_EXAMPLES_QUICK", "1")
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    plt.switch_backend("Agg")
    plt.close("all")
    try:
        with threadpool_limits(1), sklearn.config_context():
            yield
    finally:
        torch.set_num_threads(threads)
        plt.close("all")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_and_draws(path, quick_mode):
    if (
        path.name in NEEDS_ACS
        and not (SHARED_DATA / "acs-excerpts").is_dir()
        and not os.environ.get("CI")
    ):
        pytest.skip(f"needs the ACS excerpts in {SHARED_DATA} (FAIRSK_SHARED_DATA)")
    runpy.run_path(str(path), run_name="__main__")
    figures = plt.get_fignums()
    assert figures, f"{path.name} drew no figure"
    for num in figures:
        assert plt.figure(num).get_axes(), f"{path.name}: figure {num} is empty"


# -- docstrings ------------------------------------------------------------------------
#: Public classes and functions whose docstrings have no Examples section yet. The
#: list may only shrink: a new public name needs an example (it runs as a doctest),
#: and a name that gains one must leave the list.
MISSING_EXAMPLES: set[str] = set()


def public_callables() -> dict[str, object]:
    """Every class and function in the ``__all__`` of a public fairsk module.

    Each object is named once, at its shortest public path (as the API reference
    documents it).
    """
    import importlib
    import inspect
    import pkgutil

    import fairsk

    modules = ["fairsk"] + [
        m.name
        for m in pkgutil.walk_packages(fairsk.__path__, "fairsk.")
        if not any(part.startswith("_") for part in m.name.split("."))
    ]
    modules.sort(key=lambda m: (m.count("."), m))
    found: dict[int, tuple[str, object]] = {}
    for module in modules:
        mod = importlib.import_module(module)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and id(
                obj
            ) not in found:
                found[id(obj)] = (f"{module}.{name}", obj)
    return dict(found.values())


def test_public_docstrings_have_examples():
    import inspect

    objects = public_callables()
    assert "fairsk.SSLALMClassifier" in objects
    missing = {
        name
        for name, obj in objects.items()
        if "\nExamples\n--------\n" not in "\n" + (inspect.getdoc(obj) or "") + "\n"
    }
    new = sorted(missing - MISSING_EXAMPLES)
    assert not new, f"public names without an Examples section: {new}"
    fixed = sorted(MISSING_EXAMPLES - missing)
    assert not fixed, f"these have Examples now; remove them from the list: {fixed}"
