"""How a fairsk classifier turns its input into what the engine trains on.

:class:`FitPreparationMixin` holds the steps of
:class:`~fairsk.estimators.BaseFairClassifier`'s fit before and after training:
validate ``X``, ``y`` and the weights, encode the target and the sensitive
features into group codes, compile the constraints against those groups, split
off the validation rows and move the training set to the device (``_prepare``);
then record what the fit leaves, the epochs trained and the validation report
(``_finish``). :func:`fairsk.batched.fit_together` calls both, around one
training of many models.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight

from ..constraints import cell_mass, compile_constraints, make_constraints
from ..engine import resolve_device
from ..groups import GroupEncoder
from ..sampling import TrainingData
from .inputs import (
    check_bounds,
    compile_on_rows,
    encode_target,
    split_rows,
    validate_X,
    warn_single_class,
    warn_small_groups,
)

__all__ = ["FitPreparationMixin"]


class FitPreparationMixin:
    """Input validation, group encoding and constraint compilation for ``fit``.

    Reads the estimator's parameters (``constraint``, ``bound``, ``pairing``,
    ``min_group_size``, ``validation_fraction``, ``select``,
    ``holdout_constraints``, ``random_state``, ``device``, ``batch_size``,
    ``constraint_batch_size``, ``warm_start``), the class attributes
    ``_algorithm`` and ``_requires_groups``, and sets the fitted attributes
    ``classes_``, ``group_encoder_``, ``groups_``, ``constraints_``,
    ``constraint_names_``, ``compiled_constraints_``, ``interrupted_``,
    ``n_iter_``, ``best_epoch_`` and ``validation_report_``.
    """

    def _prepare(
        self,
        X,
        y,
        sensitive_features,
        sample_weight,
        incremental=False,
        rows=None,
        shared=None,
    ) -> SimpleNamespace:
        """Validate and encode the input; the training (and validation) rows.

        ``rows`` (sorted) trains on those rows of ``X`` only, as a fit on
        ``X[rows]`` would, from ``shared``, ``X`` already on the device (the
        models of :func:`fairsk.batched.fit_together` share one copy of ``X``).
        Returns the :class:`~fairsk.sampling.TrainingData`, the validation data
        (or ``None``), the seed of the initialisation and the draws, and the
        validation rows for the report.
        """
        self._sparse_told = [False]
        X, y = validate_X(self, X, y, reset=not incremental, fitting=True)
        mine = slice(None) if rows is None else rows
        self.classes_, y01 = encode_target(
            self, np.asarray(y)[mine], self.classes_ if incremental else None
        )
        if rows is not None:
            y01 = (np.asarray(y) == self.classes_[1]).astype(np.float32)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        groups = self._groups(sensitive_features, X.shape[0], incremental, rows)
        for needs, what in (
            (self.select == "feasible", "select='feasible' picks the model on"),
            (self.holdout_constraints, "holdout_constraints estimates on"),
        ):
            if needs and self.validation_fraction is None:
                raise ValueError(
                    f"{what} the validation rows; set validation_fraction (e.g. 0.2)."
                )
        if self.holdout_constraints:
            self._algorithm.draws(holdout=True)  # raises when it does not apply
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if rows is not None:
            train, valid = np.asarray(rows), None
        else:
            train, valid = split_rows(self.validation_fraction, y01, groups, rng)
        # Without a validation split every row trains: pass the arrays themselves
        # (``X[arange(n)]`` would copy the whole training set).
        fit_rows = train if valid is not None or rows is not None else slice(None)

        def part(a, r):
            return None if a is None else a[r]

        g, w = part(groups, fit_rows), part(sample_weight, fit_rows)
        compiled = self._compile(g, y01[fit_rows], w, incremental)
        device = resolve_device(self.device)
        cbs = self.constraint_batch_size or self.batch_size
        if rows is not None:
            data = TrainingData(
                shared, y01, groups, sample_weight, compiled, cbs, device, rows=rows
            )
        else:
            data = TrainingData(X[fit_rows], y01[fit_rows], g, w, compiled, cbs, device)
        valid_data, report = None, None
        if valid is not None:
            vg, vw = part(groups, valid), part(sample_weight, valid)
            valid_compiled = compile_on_rows(compiled, vg, y01[valid], vw)
            held = cbs if self.holdout_constraints else None  # sampled from
            valid_data = TrainingData(
                X[valid], y01[valid], vg, vw, valid_compiled, held, device
            )
            data.holdout = valid_data if self.holdout_constraints else None
            report = (X[valid], y01[valid], vg, vw)
        return SimpleNamespace(data=data, valid=valid_data, seed=seed, report=report)

    def _finish(self, prep: SimpleNamespace):
        """Set what a fit leaves: epochs trained, interruption, the report."""
        hist = self.net_.history
        # Ctrl-C stops training and fit returns (skorch's convention), with the
        # last finished epoch's model: n_iter_ counts finished epochs.
        self.interrupted_ = bool(getattr(self.net_, "interrupted_", False))
        cut_short = self.interrupted_ and "train_loss" not in hist[-1]
        self.n_iter_ = len(hist) - int(cut_short)
        if not self.interrupted_:
            warn_single_class(self, self.net_.module_, prep.data)
        selected = [i for i, h in enumerate(hist) if h.get("selected")]
        self.best_epoch_ = selected[-1] + 1 if selected else None
        self.validation_report_ = None
        if prep.report is not None and self.compiled_constraints_ is not None:
            self.validation_report_ = self._feasibility(
                *prep.report, confidence=0.95, n_boot=200, random_state=prep.seed
            )
        return self

    def _groups(self, sensitive_features, n, incremental, rows=None):
        """Group codes; with ``rows``, encoded on those rows (others coded 0)."""
        if rows is None or sensitive_features is None:
            return self._encode_groups(sensitive_features, n, incremental)
        A = np.asarray(sensitive_features, dtype=object)
        codes = np.zeros(n, dtype=np.int64)
        codes[rows] = self._encode_groups(A[rows], len(rows), incremental)
        return codes

    def _encode_groups(self, sensitive_features, n, incremental):
        """Group code of every sample (``None`` when none were given)."""
        if sensitive_features is None:
            if self._requires_groups:
                raise ValueError(
                    f"{type(self).__name__}.fit needs the group of each sample: "
                    "call fit(X, y, sensitive_features=A) with A of length "
                    "n_samples. In a Pipeline pass "
                    "pipe.fit(X, y, <step>__sensitive_features=A), or enable "
                    "sklearn.set_config(enable_metadata_routing=True) and pass "
                    "sensitive_features=A."
                )
            if not incremental:
                self.group_encoder_ = None
            return None
        if incremental and self.group_encoder_ is not None:
            return self.group_encoder_.transform(sensitive_features, n)
        self.group_encoder_ = GroupEncoder(self.min_group_size)
        groups = self.group_encoder_.fit_transform(sensitive_features, n)
        names = self.group_encoder_.groups_
        if len(names) < 2:
            raise ValueError(
                f"sensitive_features has a single group ({names[0]!r}"
                + (" after merging small groups" if self.group_encoder_.merged_ else "")
                + "); fairness constraints compare at least two groups."
            )
        return groups

    def _compile(self, groups, y01, sample_weight, incremental):
        """Compile the constraints against the training groups."""
        if groups is None:
            if not incremental:
                self.constraints_, self.constraint_names_ = [], []
                self.compiled_constraints_ = None
            return None
        names = self.group_encoder_.groups_
        mass = cell_mass(groups, y01, len(names), sample_weight)
        weightless = [names[g] for g in np.flatnonzero(mass.sum(axis=1) == 0)]
        if weightless:
            # A group whose weights are all zero has no defined statistic; it would
            # otherwise enter the constraints as a statistic fixed at zero.
            raise ValueError(
                f"sample_weight is zero for every sample of group(s) {weightless}; "
                "their statistics are undefined. Give them positive weight or drop "
                "their rows."
            )
        constraints = make_constraints(self.constraint, self.bound, self.pairing)
        compiled = compile_constraints(constraints, mass, names)
        check_bounds(self, compiled)
        if incremental and compiled.n_constraints != self.net_.algorithm_.n_constraints:
            raise ValueError(
                "warm_start fit produced a different number of constraint rows "
                f"({compiled.n_constraints} vs {self.net_.algorithm_.n_constraints}"
                "); refit from scratch with warm_start=False."
            )
        if self._algorithm.uses_constraints:
            warn_small_groups(self.classes_, compiled, groups, y01)
        self.groups_ = list(names)
        self.constraints_ = compiled.constraints
        self.constraint_names_ = list(compiled.row_names)
        self.compiled_constraints_ = compiled
        return compiled
