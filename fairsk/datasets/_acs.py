"""Folktables' ACS tasks, on Census Bureau PUMS files kept in a local cache folder.

Files are found, downloaded and parsed by folktables itself (``ACSDataSource``, and
``folktables.load_acs.initialize_and_download``), and the rows and features are those
of folktables' task definitions. What this module adds is a cache folder, errors that
say which file is missing and where to put it (folktables prints a download failure
and then crashes on the missing file), and sensitive features.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ._bunch import finish_loader

__all__ = [
    "ACS_TASKS",
    "ACSDownloadError",
    "acs_person_file",
    "get_data_home",
    "load_acs",
]

#: Task names accepted by :func:`load_acs`, and the folktables problem each means.
ACS_TASKS: dict[str, str] = {
    "income": "ACSIncome",
    "employment": "ACSEmployment",
    "public_coverage": "ACSPublicCoverage",
    "mobility": "ACSMobility",
    "travel_time": "ACSTravelTime",
}

#: Environment variable that overrides the default data folder.
DATA_ENV = "FAIRSK_DATA"

_CENSUS_URL = "https://www2.census.gov/programs-surveys/acs/data/pums/{year}/{horizon}/"


class ACSDownloadError(ConnectionError):
    """The Census Bureau could not be reached, or sent no usable PUMS file.

    A ``ConnectionError`` (so an ``OSError``); its message names the file expected,
    its folder, and how to place it by hand.

    Examples
    --------
    >>> from fairsk.datasets import ACSDownloadError, load_acs
    >>> issubclass(ACSDownloadError, ConnectionError)
    True

    :func:`load_acs` raises it when a download fails. Here folktables' downloader
    is made to fail as it does offline, so no network is needed:

    >>> import importlib
    >>> import tempfile
    >>> from unittest import mock
    >>> folktables_load_acs = importlib.import_module("folktables.load_acs")
    >>> offline = mock.patch.object(folktables_load_acs, "initialize_and_download",
    ...                             side_effect=OSError("Network is unreachable"))
    >>> with offline, tempfile.TemporaryDirectory() as root:
    ...     try:
    ...         load_acs("income", ["OK"], 2018, root=root)
    ...     except ACSDownloadError as err:
    ...         message = str(err)
    >>> "Network is unreachable" in message, "psam_p40.csv" in message
    (True, True)

    Catching ``OSError`` handles a failed download and, with ``download=False``,
    a missing file (``FileNotFoundError``) alike, e.g. to fall back on offline data:

    >>> def load_or_none(root, download):
    ...     try:
    ...         return load_acs("income", ["OK"], 2018, root=root, download=download)
    ...     except OSError as err:
    ...         return type(err).__name__
    >>> with offline, tempfile.TemporaryDirectory() as root:
    ...     load_or_none(root, download=True), load_or_none(root, download=False)
    ('ACSDownloadError', 'FileNotFoundError')
    """


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder where fairsk keeps downloaded data.

    Parameters
    ----------
    data_home : path-like or None, default=None
        Used as given when not None. Otherwise the environment variable
        ``FAIRSK_DATA`` when set, else the user's cache folder for fairsk
        (``platformdirs.user_cache_dir("fairsk")``, e.g. ``~/.cache/fairsk`` on
        Linux). The folder is not created here.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> from fairsk.datasets import get_data_home
    >>> get_data_home("/tmp/my-data").as_posix()
    '/tmp/my-data'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_ENV) or _user_cache_dir()
    return Path(data_home).expanduser()


def _user_cache_dir() -> str:
    import platformdirs

    return platformdirs.user_cache_dir("fairsk")


def acs_person_file(
    root: str | os.PathLike, state: str, year: int = 2018, horizon: str = "1-Year"
) -> Path:
    """Return where folktables reads the PUMS person file of one state.

    The layout is folktables': ``root/<year>/<horizon>/psam_p<FIPS>.csv`` (for
    2017 on; ``ss<yy>p<state>.csv`` before), as in the Census Bureau's zip files
    ``csv_p<state>.zip``.

    Parameters
    ----------
    root : path-like
        The folktables root folder.
    state : str
        Two-letter postal code, e.g. ``"OK"``.
    year : int, default=2018
        Survey year (2014 or later).
    horizon : {"1-Year", "5-Year"}, default="1-Year"
        Survey horizon.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> from fairsk.datasets import acs_person_file
    >>> acs_person_file("/data/acs", "OK", 2018).as_posix()
    '/data/acs/2018/1-Year/psam_p40.csv'
    """
    from folktables.load_acs import _STATE_CODES

    state, year = _check_state(state), _check_year(year)
    _check_horizon(horizon)
    # folktables.load_acs.initialize_and_download names the files this way; it has
    # no function that only computes the name (tests check both agree).
    if year >= 2017:
        name = f"psam_p{_STATE_CODES[state]}.csv"
    else:
        name = f"ss{str(year)[-2:]}p{state.lower()}.csv"
    return Path(root) / str(year) / horizon / name


def _check_state(state) -> str:
    from folktables import state_list

    if not isinstance(state, str) or state.upper() not in state_list:
        raise ValueError(
            f"Unknown state {state!r}; use two-letter postal codes such as 'OK' "
            f"(folktables.state_list: {', '.join(state_list)})."
        )
    return state.upper()


def _check_year(year) -> int:
    if isinstance(year, bool) or int(year) != year or int(year) < 2014:
        raise ValueError(f"year must be an integer >= 2014, got {year!r}.")
    return int(year)


def _check_horizon(horizon) -> None:
    if horizon not in ("1-Year", "5-Year"):
        raise ValueError(f"horizon must be '1-Year' or '5-Year', got {horizon!r}.")


def _how_to_place(files: list[Path], year: int, horizon: str, root: Path) -> str:
    url = _CENSUS_URL.format(year=year, horizon=horizon)
    zips = ", ".join(f"csv_p{_state_of(f).lower()}.zip" for f in files)
    them = "them" if len(files) > 1 else "it"
    return (
        f"To place {them} by hand: download {zips} from {url} (on a machine with "
        f"network access), unzip {', '.join(f.name for f in files)} into "
        f"{files[0].parent}, then call load_acs(..., root={str(root)!r}, "
        "download=False). The folder can also be set with the environment variable "
        f"{DATA_ENV} (files then go in ${DATA_ENV}/acs/<year>/<horizon>/)."
    )


def _state_of(path: Path) -> str:
    from folktables.load_acs import _STATE_CODES

    name = path.stem
    if name.startswith("psam_p"):
        fips = name.removeprefix("psam_p")
        return next(s for s, code in _STATE_CODES.items() if code == fips)
    return name[5:].upper()  # ss<yy>p<state>


def _download(path: Path, state: str, year: int, horizon: str, root: Path) -> None:
    """Download one person file with folktables; raise ACSDownloadError on failure."""
    # importlib, because the package attribute folktables.load_acs is the function
    # of that name, which shadows the module.
    folktables_load_acs = importlib.import_module("folktables.load_acs")

    path.parent.mkdir(parents=True, exist_ok=True)
    printed = io.StringIO()
    error: Exception | None = None
    # folktables catches download errors and only prints them; keep what it printed
    # to explain the failure.
    with contextlib.redirect_stdout(printed):
        try:
            folktables_load_acs.initialize_and_download(
                str(path.parent), state, year, horizon, "person", download=True
            )
        except Exception as exc:  # reported below, with what folktables printed
            error = exc
    if path.is_file():
        return
    # folktables prints "Downloading...", a note that the zip "may be corrupted"
    # (misleading when nothing was downloaded), then "Exception: <the error>".
    detail = " ".join(printed.getvalue().split())
    detail = detail.split("Exception:", 1)[-1].strip()
    if error is not None:
        detail = f"{detail} {type(error).__name__}: {error}".strip()
    raise ACSDownloadError(
        f"Could not download the {year} {horizon} ACS PUMS person file for {state} "
        f"from the Census Bureau ({_CENSUS_URL.format(year=year, horizon=horizon)}"
        f"csv_p{state.lower()}.zip); it may be unreachable from here. "
        f"The error was: {detail or 'none reported'}. load_acs expects the file {path} "
        f"(folder {path.parent}). " + _how_to_place([path], year, horizon, root)
    ) from error


def _resolve_task(task):
    import folktables

    if isinstance(task, str):
        if task not in ACS_TASKS:
            raise ValueError(
                f"Unknown task {task!r}; use one of {list(ACS_TASKS)} or a "
                "folktables.BasicProblem."
            )
        return getattr(folktables, ACS_TASKS[task])
    if isinstance(task, folktables.BasicProblem):
        return task
    raise TypeError(
        f"task must be a task name or a folktables.BasicProblem, got {task!r}."
    )


_DESCR = """\
ACS PUMS: folktables task {task}
--------------------------------
US Census Bureau, American Community Survey Public Use Microdata Sample, {year}
{horizon}, person records of {states}; read from {root}.
Task definition (rows, features, target) by folktables (Ding, Hardt, Miller, Schmidt,
"Retiring Adult: New Datasets for Fair Machine Learning", NeurIPS 2021).
Target: {target} after the task's transform, as 0/1.
Features: {features}. Missing values are NaN (folktables itself turns them into 0).
Sensitive features: group={group!r}.
"""


def load_acs(
    task="income",
    states: Sequence[str] = ("OK",),
    year: int = 2018,
    horizon: str = "1-Year",
    *,
    root: str | os.PathLike | None = None,
    download: bool = True,
    group: str | list[str] = "race_binary",
    min_group_size: int | None = None,
    drop_sensitive: bool = False,
    return_X_y: bool = False,
    as_frame: bool = True,
):
    """Load a folktables ACS task (ACSIncome, ...) from Census Bureau PUMS files.

    The person files are read (and downloaded, when missing and ``download=True``)
    by folktables' ``ACSDataSource``; the rows, features and target are those of
    folktables' task definition. X keeps missing values as NaN, where folktables'
    ``df_to_pandas`` / ``df_to_numpy`` turn them into 0: ``X.fillna(0)`` equals
    folktables' features. Encode X with :class:`ACSFeatureEncoder`.

    Parameters
    ----------
    task : str or folktables.BasicProblem, default="income"
        ``"income"`` (``ACSIncome``), ``"employment"`` (``ACSEmployment``),
        ``"public_coverage"`` (``ACSPublicCoverage``), ``"mobility"``
        (``ACSMobility``), ``"travel_time"`` (``ACSTravelTime``), or any folktables
        problem over person records.
    states : list of str, default=("OK",)
        Two-letter postal codes; ``folktables.state_list`` is all of them (about
        3 GB for one year).
    year : int, default=2018
        Survey year, 2014 or later.
    horizon : {"1-Year", "5-Year"}, default="1-Year"
        Survey horizon.
    root : path-like or None, default=None
        The folktables root folder: files are read from
        ``root/<year>/<horizon>/psam_p<FIPS>.csv`` (see :func:`acs_person_file`).
        Default ``get_data_home() / "acs"``, i.e. ``$FAIRSK_DATA/acs`` when that
        environment variable is set, else the user's cache folder.
    download : bool, default=True
        Download missing files from the Census Bureau (with folktables).
    group : str or list of str, default="race_binary"
        Sensitive features, see :class:`SensitiveFeatureBuilder`: ``"race_binary"``
        (White vs Non-White, from RAC1P), ``"race"``, ``"sex"``, ``"sex_race"``, or
        PUMS column names.
    min_group_size : int or None, default=None
        Merge smaller groups into ``"other"`` (with a warning).
    drop_sensitive : bool, default=False
        Remove the columns the sensitive features come from (RAC1P and/or SEX) from
        X. By default X keeps them, as folktables' tasks do; dropping them does not
        remove their proxies.
    return_X_y : bool, default=False
        Return ``(X, y, sensitive_features)`` instead of a Bunch.
    as_frame : bool, default=True
        DataFrame / Series, or numpy arrays when False.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (X), ``target`` (0/1 ints, named after folktables' target column,
        e.g. PINCP), ``sensitive_features``, ``frame`` (X and target; None when
        ``as_frame=False``), ``feature_names``, ``target_names``, ``DESCR``.
    (X, y, sensitive_features) : tuple
        When ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        ``download=False`` and a file is missing; the message names each file, its
        folder, and where to download it.
    ACSDownloadError
        ``download=True`` and the Census Bureau could not be reached (or sent no
        usable file); a ``ConnectionError`` whose message names the file expected
        and how to place it by hand.

    See Also
    --------
    load_pums_income : An income task on any PUMS-format file (e.g. extracts).
    load_adult : The embedded offline default.
    ACSFeatureEncoder : Encode X.

    References
    ----------
    .. [1] F. Ding, M. Hardt, J. Miller, L. Schmidt. "Retiring Adult: New Datasets
       for Fair Machine Learning". NeurIPS 2021. https://github.com/socialfoundations/folktables

    Examples
    --------
    With no file in the folder and no download, the error says what to do:

    >>> import tempfile
    >>> from fairsk.datasets import load_acs
    >>> with tempfile.TemporaryDirectory() as root:
    ...     load_acs("income", ["OK"], 2018, root=root, download=False)
    Traceback (most recent call last):
    ...
    FileNotFoundError: No 2018 1-Year ACS PUMS person file for OK: .../psam_p40.csv ...
    """
    import folktables

    problem = _resolve_task(task)
    if isinstance(states, str):
        states = [states]
    states = [_check_state(s) for s in states]
    if not states:
        raise ValueError("states is empty; give at least one state, e.g. ['OK'].")
    year = _check_year(year)
    _check_horizon(horizon)
    root = Path(root).expanduser() if root is not None else get_data_home() / "acs"

    files = {s: acs_person_file(root, s, year, horizon) for s in states}
    missing = [s for s, f in files.items() if not f.is_file()]
    if missing and not download:
        paths = [files[s] for s in missing]
        raise FileNotFoundError(
            f"No {year} {horizon} ACS PUMS person file for {', '.join(missing)}: "
            f"{', '.join(str(p) for p in paths)} not found (download=False). "
            + _how_to_place(paths, year, horizon, root)
            + " Or call with download=True."
        )
    for state in missing:
        _download(files[state], state, year, horizon, root)

    source = folktables.ACSDataSource(
        survey_year=str(year), horizon=horizon, survey="person", root_dir=str(root)
    )
    data = source.get_data(states=states, download=False)
    # folktables exposes the task's row filter only through df_to_pandas, which also
    # applies its postprocess (NaN -> 0); apply the filter alone to keep NaN.
    rows = problem._preprocess(data)
    X = rows[list(problem.features)]
    target = rows[problem.target]
    if problem.target_transform is not None:
        target = problem.target_transform(target)
    y = pd.Series(target, name=problem.target)
    name = ACS_TASKS.get(task, "custom") if isinstance(task, str) else "custom"
    descr = _DESCR.format(
        task=name,
        year=year,
        horizon=horizon,
        states=", ".join(states),
        root=root,
        target=problem.target,
        features=", ".join(problem.features),
        group=group,
    )
    return finish_loader(
        X,
        y,
        rows,
        group=group,
        min_group_size=min_group_size,
        drop_sensitive=drop_sensitive,
        return_X_y=return_X_y,
        as_frame=as_frame,
        descr=descr,
    )
