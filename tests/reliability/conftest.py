"""Fixtures of the reliability suite (issue 8).

Every fit here is tiny (a few epochs of a small network on a few hundred rows) so
that the whole suite runs in minutes on two cores; what is tested is how the
library answers bad input and faults, not how well it learns.
"""

from __future__ import annotations

import pytest

from ..common import make_synthetic


@pytest.fixture
def data():
    """``(X, y, A)``: 240 rows, 3 features, groups "a" / "b", binary labels."""
    return make_synthetic()
