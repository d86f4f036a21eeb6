"""The reliability suite (issue 8).

Every fit here is tiny (a few epochs of a small network on a few hundred rows) so
that the whole suite runs in minutes on two cores; what is tested is how the
library answers bad input and faults, not how well it learns. The toy data is
the shared ``synthetic`` fixture (``tests/conftest.py``).
"""
