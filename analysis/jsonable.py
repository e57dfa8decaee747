"""Plain JSON values from what the analysis and the journal hold (NumPy scalars, NaN, pandas' missing values,
times): the one conversion behind the analysis document (``backstride analyse --json``), its days and the journal's
exports.  JSON has no NaN: a value that is not finite is ``null``, as the document's schema says."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pandas as pd


def jsonable(obj, *, digits: int | None = None):
    """``obj`` with every dict key a string, tuples as lists, NumPy scalars as Python ones, non-finite floats, ``pd.NA``
    and ``pd.NaT`` as None, times and dates as ISO text; floats rounded to ``digits`` decimals when given."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v, digits=digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, digits=digits) for v in obj]
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return None if not math.isfinite(f) else (f if digits is None else round(f, digits))
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (datetime, date)):  # pd.Timestamp is a datetime
        return obj.isoformat()
    return obj
