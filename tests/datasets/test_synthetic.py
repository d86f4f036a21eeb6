"""make_fair_classification: made-up toy data, drawn exactly as documented."""

from __future__ import annotations

import numpy as np
import pytest

from fairsk.datasets import make_fair_classification


@pytest.mark.parametrize(
    ("n", "d", "groups", "shift", "seed"),
    [(400, 3, ("a", "b"), 0.5, 0), (300, 2, ("x", "y"), 0.0, 7), (50, 1, (0, 1), 2, 3)],
)
def test_draws_follow_the_documented_recipe(n, d, groups, shift, seed):
    """X first, then A, from default_rng(seed): the doctests' data, bit for bit."""
    rng = np.random.default_rng(seed)
    expected_X = rng.normal(size=(n, d))
    expected_A = rng.choice(list(groups), size=n)
    favoured = expected_A == groups[0]
    expected_y = (expected_X[:, 0] + shift * favoured > 0).astype(int)
    X, y, A = make_fair_classification(
        n, d, groups=groups, group_shift=shift, random_state=seed
    )
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(A, expected_A)
    np.testing.assert_array_equal(y, expected_y)
    assert X.dtype == np.float64 and y.dtype.kind == "i"


def test_random_state_types():
    same = [make_fair_classification(random_state=s) for s in (5, np.int64(5))]
    np.testing.assert_array_equal(same[0][0], same[1][0])
    gen = make_fair_classification(random_state=np.random.default_rng(5))
    np.testing.assert_array_equal(gen[0], same[0][0])
    legacy = make_fair_classification(20, random_state=np.random.RandomState(0))
    assert legacy[0].shape == (20, 3)
    assert make_fair_classification(20)[0].shape == (20, 3)  # global state


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"n_features": 0}, "n_features"),
        ({"group_shift": "big"}, "group_shift"),
        ({"groups": ()}, "groups"),
        ({"groups": "ab"}, "groups"),
        ({"random_state": "seed"}, "seed"),
    ],
)
def test_invalid_inputs_are_refused(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make_fair_classification(**kwargs)
