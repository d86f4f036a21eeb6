"""``python -m fairsk`` and the ``fairsk`` console script.

Examples
--------
>>> main(["--version"])  # doctest: +ELLIPSIS
fairsk ...
0
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the ``fairsk`` command line with ``argv`` (default ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str or None
        Arguments after the program name.

    Returns
    -------
    int
        The exit code: 0 success, 1 failure (data could not be loaded, a run
        failed), 2 usage error, 130 interrupted.
    """
    from .benchmark.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
