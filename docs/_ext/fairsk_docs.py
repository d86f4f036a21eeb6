"""Helpers for fairsk's Sphinx build: API pages from ``__all__``, gallery settings.

Why hand-written: autosummary's stub generation scans the ``.rst`` sources for
names, so a name added to a module's ``__all__`` would stay undocumented until
someone edits ``api.rst``. :func:`write_api_pages` instead walks every public
module of the package (no path component starting with ``_``), reads its
``__all__`` and writes, under ``gen_modules/api/`` (git-ignored):

- ``sections.rst.inc``: one section per module with an autosummary table of its
  names, included by ``api.rst``;
- one page per module (its docstring, which holds the formulas) and one page per
  public object. An object exported by several modules (``fairsk.Constraint`` is
  ``fairsk.constraints.Constraint``) is documented once, under the first module
  of :data:`API_GROUPS` that exports it; other tables link there.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

#: Sections of the API reference: (title, introduction, module prefixes). A module
#: goes to the first group with a prefix equal to it or a package above it; any
#: other public module lands in "Other modules", so none is ever left out.
API_GROUPS: list[tuple[str, str, list[str]]] = [
    (
        "Classifiers",
        "The scikit-learn estimators, one per training algorithm, the two "
        "objects that describe a constraint, and fairsk's warnings.",
        ["fairsk", "fairsk.estimators", "fairsk.exceptions"],
    ),
    (
        "Constraints and groups",
        "Group statistics, how groups are compared (the constraint kinds), and "
        "sensitive features turned into group codes (see :doc:`constraints`).",
        ["fairsk.constraints", "fairsk.kinds", "fairsk.groups"],
    ),
    (
        "Data",
        "Loaders and transformers for UCI Adult, folktables' ACS tasks and PUMS "
        "files, and made-up toy data for examples (see :doc:`data`).",
        ["fairsk.datasets"],
    ),
    (
        "Evaluation and model selection",
        "The paper's metrics on fairlearn's MetricFrame, bootstrap intervals for "
        "each constraint, scorers for grid searches, the batched search over "
        "bounds and the refit rule (see :doc:`constraints` and "
        ":doc:`model_selection`).",
        [
            "fairsk.metrics",
            "fairsk.feasibility",
            "fairsk.scorers",
            "fairsk.model_selection",
        ],
    ),
    (
        "Update rules",
        "The training algorithms in pure PyTorch, apart from scikit-learn (see "
        ":doc:`algorithms`).",
        ["fairsk.algorithms"],
    ),
    (
        "Training engine",
        "The skorch net that runs an update rule, its callbacks, the declared "
        "settings, the optimizer, the network, the problem and its samplers, and "
        "many models trained as one (see :doc:`skorch` and :doc:`scaling`).",
        [
            "fairsk.engine",
            "fairsk.callbacks",
            "fairsk.settings",
            "fairsk.optim",
            "fairsk.nets",
            "fairsk.problem",
            "fairsk.sampling",
            "fairsk.batched",
        ],
    ),
    (
        "Benchmark",
        "The ``fairsk benchmark`` command from Python (see :doc:`benchmark`).",
        ["fairsk.benchmark"],
    ),
]

OTHER = ("Other modules", "Public modules not listed above.")

#: scikit-learn's generated metadata-routing and output methods, documented by
#: scikit-learn (their docstrings link to its pages); ``set_*_request`` too.
SKLEARN_MACHINERY = {"get_metadata_routing", "set_output"}


def public_modules(package: str = "fairsk") -> list[str]:
    """Import every public module of ``package``; return their names, sorted."""
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    for name in names:
        importlib.import_module(name)
    return sorted(names)


def _group_of(module: str) -> int:
    for i, (_, _, prefixes) in enumerate(API_GROUPS):
        for prefix in prefixes:
            if module == prefix or (
                prefix != "fairsk" and module.startswith(prefix + ".")
            ):
                return i
    return len(API_GROUPS)


def _module_key(module: str) -> tuple:
    group = _group_of(module)
    prefixes = API_GROUPS[group][2] if group < len(API_GROUPS) else []
    rank = next(
        (
            i
            for i, p in enumerate(prefixes)
            if module == p or module.startswith(p + ".")
        ),
        len(prefixes),
    )
    return (group, rank, module.count("."), module)


def _kind(obj) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "function"
    return "data"


def _heading(text: str, char: str) -> str:
    return f"{text}\n{char * len(text)}\n"


def _class_options(obj) -> list[str]:
    from sklearn.base import BaseEstimator

    options = ["   :members:"]
    if issubclass(obj, BaseEstimator):
        # fit/predict come from BaseFairClassifier, fit_transform from a mixin.
        options.append("   :inherited-members:")
    return options


def _object_page(module: str, name: str, obj) -> str:
    kind = _kind(obj)
    lines = [_heading(f"{module}.{name}", "="), f".. currentmodule:: {module}", ""]
    if kind == "class":
        lines += [f".. autoclass:: {name}", *_class_options(obj)]
    elif kind == "exception":
        lines += [f".. autoexception:: {name}"]
    elif kind == "function":
        lines += [f".. autofunction:: {name}"]
    else:
        lines += [f".. autodata:: {name}"]
        if len(repr(obj)) > 200:
            lines.append("   :no-value:")
    if kind in ("class", "function"):
        lines += [
            "",
            f".. minigallery:: {module}.{name}",
            "   :add-heading: Examples using this",
        ]
    return "\n".join(lines) + "\n"


def _summary_table(entries: list[str], module: str | None = None) -> list[str]:
    # autosummary warns about names that repeat the current module: drop it.
    prefix = f"{module}." if module else None
    names = [
        e[len(prefix) :] if prefix and e.startswith(prefix) else f"~{e}"
        for e in entries
    ]
    return [
        ".. autosummary::",
        "   :nosignatures:",
        "",
        *(f"   {n}" for n in names),
        "",
    ]


def write_api_pages(srcdir: str | Path, package: str = "fairsk") -> list[str]:
    """Write the API pages of every public name; return the documented names.

    Parameters
    ----------
    srcdir : path-like
        The Sphinx source folder; pages go to ``srcdir/gen_modules/api``.
    package : str, default="fairsk"
        The package to document.

    Returns
    -------
    list of str
        Fully qualified name of each documented object.
    """
    out = Path(srcdir) / "gen_modules" / "api"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.rst"):
        old.unlink()
    modules = sorted(public_modules(package), key=_module_key)
    owner: dict[int, str] = {}  # id(object) -> its documented name
    documented: list[str] = []
    sections: dict[int, list[str]] = {}
    for module in modules:
        mod = importlib.import_module(module)
        names = list(getattr(mod, "__all__", []))
        entries, pages = [], [f"gen_modules/api/{module}"]
        for name in names:
            obj = getattr(mod, name)
            full = f"{module}.{name}"
            if id(obj) in owner:
                entries.append(owner[id(obj)])
                continue
            owner[id(obj)] = full
            documented.append(full)
            entries.append(full)
            pages.append(f"gen_modules/api/{full}")
            (out / f"{full}.rst").write_text(_object_page(module, name, obj))
        (out / f"{module}.rst").write_text(
            "\n".join(
                [
                    _heading(f"``{module}``", "="),
                    f".. automodule:: {module}",
                    "",
                    f".. currentmodule:: {module}",
                    "",
                    *(_summary_table(entries, module) if entries else []),
                ]
            )
        )
        summary = (inspect.getdoc(mod) or "").strip().split("\n\n")[0]
        block = [
            _heading(f"``{module}``", "~"),
            " ".join(summary.split())
            + f" :doc:`Module page <gen_modules/api/{module}>`.",
            "",
            *(_summary_table(entries) if entries else []),
            ".. toctree::",
            "   :hidden:",
            "",
            *(f"   {p}" for p in pages),
            "",
        ]
        sections.setdefault(_group_of(module), []).extend(block)
    text = []
    for group, blocks in sorted(sections.items()):
        title, intro = API_GROUPS[group][:2] if group < len(API_GROUPS) else OTHER
        text += [_heading(title, "-"), intro, "", *blocks]
    (out / "sections.rst.inc").write_text("\n".join(text))
    return documented


def data_doc_comments(package: str = "fairsk") -> dict[str, list[str]]:
    """Doc comments (``#:``) of public data, under every public name they have.

    autodoc reads ``#:`` comments from the module it documents, so a constant
    defined in ``fairsk.datasets._acs`` and exported by ``fairsk.datasets`` would
    be documented without its comment. This finds the comment in the defining
    module (any module of the package, private ones included).
    """
    from sphinx.pycode import ModuleAnalyzer

    pkg = importlib.import_module(package)
    everywhere = [package] + [
        m.name for m in pkgutil.walk_packages(pkg.__path__, package + ".")
    ]
    comments: dict[int, list[str]] = {}
    for module in everywhere:
        try:
            mod = importlib.import_module(module)
            docs = ModuleAnalyzer.for_module(module).find_attr_docs()
        except Exception:  # e.g. __main__ run as a module; nothing to document
            continue
        for (scope, name), lines in docs.items():
            if scope == "" and hasattr(mod, name):
                comments.setdefault(id(getattr(mod, name)), list(lines))
    out = {f"{package}.__version__": ["The version of fairsk (semantic versioning)."]}
    for module in public_modules(package):
        mod = importlib.import_module(module)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if _kind(obj) == "data" and id(obj) in comments:
                out[f"{module}.{name}"] = comments[id(obj)]
    return out


def _cell(text: str) -> str:
    return " ".join(text.split()) or " "


def _first_sentence(text: str) -> str:
    text = _cell(text.split("\n\n")[0])
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text


def _list_table(header: list[str], rows: list[list[str]], widths: str) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for row in [header, *rows]:
        lines.append(f"   * - {_cell(row[0])}")
        lines += [f"     - {_cell(c)}" for c in row[1:]]
    return [*lines, ""]


def fair_classifiers(package: str = "fairsk") -> list[type]:
    """The classifiers exported by ``package``, in ``__all__`` order."""
    from fairsk.estimators import BaseFairClassifier

    pkg = importlib.import_module(package)
    objs = [getattr(pkg, name) for name in pkg.__all__]
    return [
        o
        for o in objs
        if inspect.isclass(o)
        and issubclass(o, BaseFairClassifier)
        and o is not BaseFairClassifier
    ]


def write_parameter_tables(srcdir: str | Path, package: str = "fairsk") -> None:
    """Write the hyperparameter tables of ``algorithms.rst`` from the signatures.

    ``gen_modules/params/<Class>.rst.inc`` lists a classifier's own parameters and
    the shared ones whose default differs from :class:`BaseFairClassifier`'s, with
    the default read from the signature and the meaning from the docstring, so the
    page cannot drift from the code. ``overview.rst.inc`` lists every classifier
    (new ones included) and ``common.rst.inc`` the shared parameters.
    """
    from numpydoc.docscrape import ClassDoc

    from fairsk.estimators import BaseFairClassifier

    out = Path(srcdir) / "gen_modules" / "params"
    out.mkdir(parents=True, exist_ok=True)
    base = inspect.signature(BaseFairClassifier.__init__).parameters
    overview = []
    common_desc: dict[str, str] = {}
    for cls in fair_classifiers(package):
        doc = ClassDoc(cls, config={"show_class_members": False})
        desc = {p.name: "\n".join(p.desc) for p in doc["Parameters"]}
        for name in base:
            common_desc.setdefault(name, desc.get(name, ""))
        sig = inspect.signature(cls.__init__).parameters
        rows = []
        for name, param in sig.items():
            if name == "self":
                continue
            own = name not in base
            if own or param.default != base[name].default:
                shared = "" if own else " (shared; its default differs here)"
                rows.append(
                    [
                        f"``{name}``",
                        f"``{param.default!r}``",
                        desc.get(name, "") + shared,
                    ]
                )
        table = (
            _list_table(["Parameter", "Default", "Meaning"], rows, "20 15 65")
            if rows
            else ["Only the shared parameters below.", ""]
        )
        (out / f"{cls.__name__}.rst.inc").write_text("\n".join(table))
        summary = " ".join(doc["Summary"])
        own_names = ", ".join(f"``{n}``" for n in sig if n not in base and n != "self")
        overview.append(
            [f":class:`~{package}.{cls.__name__}`", summary, own_names or "none"]
        )
    (out / "overview.rst.inc").write_text(
        "\n".join(
            _list_table(
                ["Classifier", "What it does", "Its own hyperparameters"],
                overview,
                "25 45 30",
            )
        )
    )
    rows = [
        [f"``{name}``", f"``{param.default!r}``", common_desc.get(name, "")]
        for name, param in base.items()
        if name != "self"
    ]
    (out / "common.rst.inc").write_text(
        "\n".join(_list_table(["Parameter", "Default", "Meaning"], rows, "20 15 65"))
    )


#: fairlearn's counterparts of the constraint shortcuts: (reduction moment, metric).
#: fairlearn's metric for each named constraint (docs only: fairsk reports with
#: :func:`fairsk.metrics.paper_metrics`); the reduction comes from the catalog.
FAIRLEARN_METRICS = {
    "loss_gap": ":func:`fairsk.metrics.loss_gap`",
    "demographic_parity": "``demographic_parity_difference``",
    "demographic_parity_ratio": "``demographic_parity_ratio``",
    "equal_opportunity": "``equal_opportunity_difference``",
    "equal_opportunity_ratio": "``equal_opportunity_ratio``",
    "equalized_odds": "``equalized_odds_difference``",
    "equalized_odds_ratio": "``equalized_odds_ratio``",
    "false_positive_rate_parity": "``MetricFrame(false_positive_rate).difference()``",
    "false_positive_rate_ratio": "``MetricFrame(false_positive_rate).ratio()``",
    "error_rate_parity": "``zero_one_loss_difference``",
    "error_rate_ratio": "``zero_one_loss_ratio``",
    "bounded_group_loss": "``MetricFrame(log_loss).group_max()``",
    "bounded_group_error": "``MetricFrame(zero_one_loss).group_max()``",
}


def _reduction(named) -> str:
    """fairlearn's reduction for a catalog entry, with its bound's keyword."""
    if named.moment is None:
        return "none"
    if named.kind == "upper":
        return f"``{named.moment}(ZeroOneLoss(), upper_bound=δ)``"
    key = "ratio_bound=r" if named.kind == "ratio" else "difference_bound=δ"
    return f"``{named.moment}({key})``"


def write_constraint_tables(srcdir: str | Path) -> None:
    """Write the tables of ``constraints.rst`` from ``CONSTRAINTS``/``STATISTICS``."""
    from fairsk.constraints import CONSTRAINTS, STATISTICS

    out = Path(srcdir) / "gen_modules" / "params"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, spec in CONSTRAINTS.items():
        rows.append(
            [
                f"``{name!r}``",
                ", ".join(f"``{s}``" for s in spec.statistics),
                f"``{spec.kind}``",
                _reduction(spec),
                FAIRLEARN_METRICS.get(name, "--"),
            ]
        )
    (out / "constraints.rst.inc").write_text(
        "\n".join(
            _list_table(
                [
                    "constraint=",
                    "statistics",
                    "kind",
                    "fairlearn reduction",
                    "fairlearn metric",
                ],
                rows,
                "20 22 10 28 20",
            )
        )
    )
    rows = []
    for name, stat in STATISTICS.items():
        q = stat.quantity
        given = "all rows" if stat.label is None else f"rows with y = {stat.label}"
        rows.append(
            [
                f"``{name!r}``",
                f"``{q.name}``: " + _first_sentence(inspect.getdoc(q.fn) or ""),
                _first_sentence(inspect.getdoc(q.hard_fn) or "")
                if q.hard_fn
                else "the same",
                given,
            ]
        )
    (out / "statistics.rst.inc").write_text(
        "\n".join(
            _list_table(
                ["statistic", "quantity (training)", "reported on", "averaged over"],
                rows,
                "22 38 25 15",
            )
        )
    )


class ExampleOrder:
    """Gallery order: a newcomer's path through the examples, then the rest."""

    ORDER = (
        "plot_quickstart.py",
        "plot_data_adult_and_acs.py",
        "plot_choosing_an_algorithm.py",
        "plot_grid_search_bounds.py",
        "plot_compare_fairlearn.py",
        "plot_acs_intersectional.py",
        "plot_custom_constraint.py",
    )

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple:
        name = Path(filename).name
        rank = self.ORDER.index(name) if name in self.ORDER else len(self.ORDER)
        return (rank, name)

    def __repr__(self) -> str:
        return "ExampleOrder"


def reset_sklearn(gallery_conf, fname, when=None) -> None:
    """Turn metadata routing off between examples (one turns it on globally)."""
    import sklearn

    sklearn.set_config(enable_metadata_routing=False)
