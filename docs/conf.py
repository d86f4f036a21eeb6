"""Sphinx configuration of fairsk's documentation.

Build (from the repository root; ``pip install -e ".[docs]"`` first)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The gallery runs every ``examples/plot_*.py`` in quick mode
(``FAIRSK_EXAMPLES_QUICK=1``: fewer epochs and rows); set
``FAIRSK_EXAMPLES_QUICK=0`` for the full-size runs. Examples that read the real ACS
excerpts find them in ``../shared/data`` beside the repository, or in
``$FAIRSK_SHARED_DATA``.
"""

from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

# Before anything imports torch: one thread suits these small networks and keeps the
# build from competing with itself on a small machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("FAIRSK_EXAMPLES_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402
from fairsk_docs import (  # noqa: E402
    SKLEARN_MACHINERY,
    data_doc_comments,
    write_api_pages,
    write_constraint_tables,
    write_parameter_tables,
)

import fairsk  # noqa: E402

torch.set_num_threads(1)

# -- project -----------------------------------------------------------------------
project = "fairsk"
author = "the fairsk developers"
copyright = "the fairsk developers, BSD-3-Clause"
version = release = fairsk.__version__

# -- general -----------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
exclude_patterns = ["_build", "_ext", "auto_examples/*.ipynb", "**/*.inc"]
templates_path: list[str] = []
default_role = "literal"

# -- API reference: generated from every public module's __all__ --------------------
write_api_pages(HERE)
write_parameter_tables(HERE)  # the tables of algorithms.rst
write_constraint_tables(HERE)  # and of constraints.rst
autosummary_generate = False  # the pages above are the stubs
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc sections state the types
numpydoc_show_class_members = False  # autodoc's :members: lists them once
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False
intersphinx_mapping: dict = {}  # no network when the docs are built
# numpydoc's References sections list papers that the text need not cite.
suppress_warnings = ["ref.citation"]


def skip_sklearn_machinery(app, what, name, obj, skip, options):
    """Leave methods inherited from scikit-learn (get_params, score, routing
    requests, ...) to scikit-learn's documentation, which their docstrings link to.
    """
    if name in SKLEARN_MACHINERY or (
        name.startswith("set_") and name.endswith("_request")
    ):
        return True
    if what == "class" and str(getattr(obj, "__module__", "")).startswith("sklearn."):
        return True
    return None


DATA_DOCS = data_doc_comments()


def document_data(app, what, name, obj, options, lines):
    """Give public constants their ``#:`` comment, never their type's docstring."""
    if what not in ("data", "attribute"):
        return
    type_doc = inspect.getdoc(type(obj)) or ""
    if lines and "\n".join(lines).strip() == type_doc.strip():
        lines[:] = []
    if not any(line.strip() for line in lines) and name in DATA_DOCS:
        lines[:] = [*DATA_DOCS[name], ""]


def setup(app):
    app.connect("autodoc-skip-member", skip_sklearn_machinery)
    # Before numpydoc (priority 500) rewrites the docstring.
    app.connect("autodoc-process-docstring", document_data, priority=100)


# -- gallery ---------------------------------------------------------------------
SHARED_DATA = Path(
    os.environ.get("FAIRSK_SHARED_DATA", HERE.parent.parent / "shared" / "data")
)
NEEDS_SHARED_DATA = ["plot_acs_intersectional.py"]
run_pattern = r"/plot_"
if not (SHARED_DATA / "acs-excerpts").is_dir() and not os.environ.get("CI"):
    # Outside CI, build without the real ACS files: show those examples unexecuted.
    run_pattern = r"/plot_(?!" + "|".join(n[5:-3] for n in NEEDS_SHARED_DATA) + ")"

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": run_pattern,
    "within_subsection_order": "fairsk_docs.ExampleOrder",
    "reset_modules": ("matplotlib", "fairsk_docs.reset_sklearn"),
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("fairsk",),
    "remove_config_comments": True,
    "min_reported_time": 0,
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_memory": False,
}

# -- HTML ---------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"fairsk {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "getting_started": []}
html_static_path: list[str] = []
html_show_sourcelink = False
