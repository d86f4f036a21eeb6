"""What the ACS PUMS person variables mean: categorical or numeric, and major groups.

The tables here follow the ACS PUMS data dictionaries of the US Census Bureau
(``PUMS_Data_Dictionary_2018.pdf`` / ``_2019.pdf`` at
https://www2.census.gov/programs-surveys/acs/tech_docs/pums/data_dict/) and, for the
recodes that only the NIST "ACS Data Excerpts" carry (``EDU``, ``INDP_CAT``,
``HOUSING_TYPE``, ``OWN_RENT``, ``DENSITY``, ``PINCP_DECILE``), the excerpts'
``data_dictionary.json``. They cover every feature of folktables' ACS tasks, every
column of the NIST excerpts and a few common extras; a column named in neither set is
"unknown" to :class:`~fairsk.datasets.ACSFeatureEncoder`, which then applies its
``unknown_columns`` rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "CATEGORICAL",
    "GROUPED",
    "MISSING_LABEL",
    "NUMERIC",
    "RAC1P_LABELS",
    "SEX_LABELS",
    "UNKNOWN_LABEL",
    "major_category",
]

#: Variables whose values are codes of categories (one code per category, the
#: numbers carry no magnitude). Grade-like codes (SCHL, EDU) are included: their
#: steps are not equal, so a one-hot encoding is the safe default.
CATEGORICAL: frozenset[str] = frozenset(
    {
        # demographics and household position
        "SEX", "RAC1P", "RAC2P", "RAC3P", "HISP", "MAR", "MSP", "RELP", "RELSHIPP",
        "NATIVITY", "CIT", "ANC", "WAOB", "LANX", "ENG", "FER", "GCL", "QTRBIR",
        "RACAIAN", "RACASN", "RACBLK", "RACNH", "RACPI", "RACSOR", "RACWHT",
        # education
        "SCHL", "SCH", "SCHG", "FOD1P", "FOD2P",
        # disability and veteran status
        "DIS", "DEAR", "DEYE", "DREM", "DPHY", "DDRS", "DOUT", "DRAT", "DRATX",
        "DVET", "MIL", "VPS",
        # work, industry, occupation, commute
        "COW", "ESR", "ESP", "WRK", "WKL", "JWTR", "JWTRNS", "OCCP", "INDP",
        "SOCP", "NAICSP",
        # geography and migration
        "ST", "PUMA", "POWPUMA", "POWSP", "POBP", "MIG", "MIGSP", "MIGPUMA",
        # health insurance
        "HICOV", "PRIVCOV", "PUBCOV", "HINS1", "HINS2", "HINS3", "HINS4", "HINS5",
        "HINS6", "HINS7",
        # recodes of the NIST ACS Data Excerpts (data_dictionary.json)
        "EDU", "INDP_CAT", "HOUSING_TYPE", "OWN_RENT",
    }
)  # fmt: skip

#: Variables whose values are quantities (ages, hours, dollars, counts, ratios).
NUMERIC: frozenset[str] = frozenset(
    {
        "AGEP", "WKHP", "WKWN", "JWMNP", "JWRIP", "CITWP", "YOEP", "MARHYP",
        "PINCP", "PERNP", "WAGP", "SEMP", "INTP", "RETP", "SSP", "SSIP", "PAP",
        "OIP", "POVPIP", "ADJINC", "NOC", "NPF", "NP", "NRC",
        "PWGTP", "WGTP",
        # NIST excerpt recodes: people per square mile of the PUMA; income decile
        "DENSITY", "PINCP_DECILE",
    }
)  # fmt: skip

#: Label given to a missing value (``N`` or empty in the CSV) of a categorical code.
MISSING_LABEL = "missing"

#: Label of a grouped code that no range covers (or that is not a number).
UNKNOWN_LABEL = "unknown"

# Major groups as (first code, label) pairs sorted by code: a code belongs to the
# last group whose first code it reaches. The boundaries are the first codes of the
# three-letter prefixes ("MGR-", "AGR-", ...) that the data dictionary puts on each
# OCCP and INDP value label, and of the continent blocks of the POBP code list.
# Codes in the gaps between published ranges are unused by the Census Bureau.

#: OCCP (Census occupation code; 2010 codes in 2017 and before, 2018 codes after):
#: the boundaries below are the first codes of each major group in both vintages.
_OCCP_GROUPS: tuple[tuple[int, str], ...] = (
    (10, "MGR"),  # management
    (500, "BUS"),  # business operations
    (800, "FIN"),  # financial specialists
    (1000, "CMM"),  # computer and mathematical
    (1300, "ENG"),  # architecture and engineering
    (1600, "SCI"),  # life, physical and social science
    (2000, "CMS"),  # community and social service
    (2100, "LGL"),  # legal
    (2200, "EDU"),  # education, training, library
    (2600, "ENT"),  # arts, design, entertainment, sports, media
    (3000, "MED"),  # healthcare practitioners and technical
    (3600, "HLS"),  # healthcare support
    (3700, "PRT"),  # protective service
    (4000, "EAT"),  # food preparation and serving
    (4200, "CLN"),  # building and grounds cleaning and maintenance
    (4300, "PRS"),  # personal care and service
    (4700, "SAL"),  # sales
    (5000, "OFF"),  # office and administrative support
    (6000, "FFF"),  # farming, fishing, forestry
    (6200, "CON"),  # construction
    (6800, "EXT"),  # extraction
    (7000, "RPR"),  # installation, maintenance, repair
    (7700, "PRD"),  # production
    (9000, "TRN"),  # transportation and material moving
    (9800, "MIL"),  # military specific
    (9900, "UNEMPLOYED"),  # 9920: no work in the last 5 years or never worked
    (10_000, UNKNOWN_LABEL),  # codes have four digits
)

#: INDP (Census industry code, 2017+ codes): checked against the ``INDP_CAT``
#: recode of the NIST excerpts, which uses the same 19 groups.
_INDP_GROUPS: tuple[tuple[int, str], ...] = (
    (170, "AGR"),  # agriculture, forestry, fishing, hunting
    (370, "EXT"),  # mining, quarrying, oil and gas extraction
    (570, "UTL"),  # utilities
    (770, "CON"),  # construction
    (1070, "MFG"),  # manufacturing
    (4070, "WHL"),  # wholesale trade
    (4670, "RET"),  # retail trade
    (6070, "TRN"),  # transportation and warehousing
    (6470, "INF"),  # information
    (6870, "FIN"),  # finance, insurance, real estate
    (7270, "PRF"),  # professional, scientific, management, administrative
    (7860, "EDU"),  # educational services
    (7970, "MED"),  # health care
    (8370, "SCA"),  # social assistance
    (8560, "ENT"),  # arts, entertainment, accommodation, food services
    (8770, "SRV"),  # other services
    (9370, "ADM"),  # public administration
    (9670, "MIL"),  # military
    (9900, "UNEMPLOYED"),  # 9920: no work in the last 5 years or never worked
    (10_000, UNKNOWN_LABEL),  # codes have four digits
)

#: POBP (place of birth): 001-056 are US states by FIPS code, 060-099 US island
#: areas, and the foreign codes come in one block of a hundred per continent.
_POBP_GROUPS: tuple[tuple[int, str], ...] = (
    (1, "US"),
    (60, "US_ISLAND_AREAS"),  # American Samoa, Guam, N. Marianas, Puerto Rico, USVI
    (100, "EUROPE"),
    (200, "ASIA"),
    (300, "AMERICAS"),  # outside the US: Canada, Mexico, Caribbean, C./S. America
    (400, "AFRICA"),
    (500, "OCEANIA_AT_SEA"),  # Oceania, and "not specified or at sea" (554)
    (600, UNKNOWN_LABEL),
)

#: High-cardinality codes that the encoder can replace by their major group.
GROUPED: dict[str, tuple[tuple[int, str], ...]] = {
    "OCCP": _OCCP_GROUPS,
    "INDP": _INDP_GROUPS,
    "POBP": _POBP_GROUPS,
}

#: RAC1P, "Recoded detailed race code" (labels shortened, no commas in them).
RAC1P_LABELS: dict[int, str] = {
    1: "White",
    2: "Black",
    3: "American Indian",
    4: "Alaska Native",
    5: "AIAN tribes specified or not specified",
    6: "Asian",
    7: "Native Hawaiian or Pacific Islander",
    8: "Some other race",
    9: "Two or more races",
}

#: SEX.
SEX_LABELS: dict[int, str] = {1: "Male", 2: "Female"}


def major_category(column: str, values) -> np.ndarray:
    """Return the major-group label of each code of a high-cardinality variable.

    Parameters
    ----------
    column : {"OCCP", "INDP", "POBP"}
        The PUMS variable the codes belong to.
    values : array-like
        Codes as numbers or numeric strings; missing values (NaN, None, ``""``,
        ``"N"``) give ``"missing"``, codes outside every range ``"unknown"``.

    Returns
    -------
    labels : numpy.ndarray of str

    Examples
    --------
    >>> major_category("OCCP", [10, 1021, 9920, None]).tolist()
    ['MGR', 'CMM', 'UNEMPLOYED', 'missing']
    >>> major_category("POBP", ["036", 210]).tolist()
    ['US', 'ASIA']
    """
    groups = GROUPED[column]
    raw = pd.Series(np.asarray(values, dtype=object).ravel())
    missing = (raw.isna() | raw.isin(["", "N"])).to_numpy()
    codes = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    starts = np.array([start for start, _ in groups], dtype=float)
    # index 0: below the first range; index i: in the range starting at starts[i-1]
    labels = np.array([UNKNOWN_LABEL] + [label for _, label in groups], dtype=object)
    out = labels[np.searchsorted(starts, np.nan_to_num(codes, nan=-1.0), side="right")]
    out[np.isnan(codes)] = UNKNOWN_LABEL
    out[missing] = MISSING_LABEL
    return out.astype(str)
