"""Input checks shared by every entry point of the journal.

Each check returns the cleaned value or raises :class:`InvalidValueError`
naming the field, the value received and what was expected.  They run before
any database write, so a refused value changes nothing.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime, timedelta, timezone
from numbers import Integral, Real
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from journal.errors import InvalidValueError

#: The journal's first day: a date before it is a typo in the year (0226 for 2026), and would make every view of
#: the runner's history start there (there is no command to delete a check-in).
EARLIEST_DATE = date(1970, 1, 1)
#: Beyond it a time zone's offset overflows Python's dates.
LATEST_DATE = date(9999, 1, 1)


def number(field: str, value, *, lo: float | None = None, hi: float | None = None,
           lo_open: bool = False, unit: str = "", optional: bool = False, hint: str = "") -> float | None:
    """A finite real number within [lo, hi] (lo excluded when ``lo_open``)."""
    if value is None:
        if optional:
            return None
        raise InvalidValueError(field, value, "a number", hint)
    if isinstance(value, bool) or not isinstance(value, Real):
        try:
            value = float(value) if isinstance(value, str) else value
        except ValueError:
            pass
        if isinstance(value, bool) or not isinstance(value, Real):
            raise InvalidValueError(field, value, "a number", hint)
    v = float(value)
    u = f" {unit}" if unit else ""
    if not math.isfinite(v):
        raise InvalidValueError(field, value, "a finite number", hint)
    if lo is not None and (v < lo or (lo_open and v == lo)):
        rng = _range_text(lo, hi, lo_open) + u
        raise InvalidValueError(field, value, rng, hint)
    if hi is not None and v > hi:
        raise InvalidValueError(field, value, _range_text(lo, hi, lo_open) + u, hint)
    return v


def _range_text(lo, hi, lo_open) -> str:
    def f(x):
        return f"{x:g}"
    if lo is not None and hi is not None:
        return f"a number {'above' if lo_open else 'from'} {f(lo)} {'and at most' if lo_open else 'to'} {f(hi)}"
    if lo is not None:
        return f"a number {'above' if lo_open else 'of at least'} {f(lo)}"
    return f"a number of at most {f(hi)}"


def integer(field: str, value, *, lo: int | None = None, hi: int | None = None,
            optional: bool = False, hint: str = "") -> int | None:
    """A whole number within [lo, hi]; 4.0 is accepted as 4, 4.5 is not."""
    if value is None:
        if optional:
            return None
        raise InvalidValueError(field, value, "a whole number", hint)
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InvalidValueError(field, value, "a whole number", hint) from None
    if isinstance(value, bool):
        raise InvalidValueError(field, value, "a whole number", hint)
    if isinstance(value, Real) and not isinstance(value, Integral):
        if not math.isfinite(float(value)) or float(value) != int(value):
            raise InvalidValueError(field, value, "a whole number", hint)
        value = int(value)
    if not isinstance(value, Integral):
        raise InvalidValueError(field, value, "a whole number", hint)
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        if lo is not None and hi is not None:
            exp = f"a whole number from {lo} to {hi}"
        elif lo is not None:
            exp = f"a whole number of at least {lo}"
        else:
            exp = f"a whole number of at most {hi}"
        raise InvalidValueError(field, value, exp, hint)
    return v


def choice(field: str, value, options: tuple[str, ...], *, optional: bool = False,
           aliases: dict[str, str] | None = None) -> str | None:
    """One of ``options`` (case-insensitive, '_' read as '-')."""
    if value is None:
        if optional:
            return None
        raise InvalidValueError(field, value, "one of " + ", ".join(options))
    if not isinstance(value, str):
        raise InvalidValueError(field, value, "one of " + ", ".join(options))
    v = value.strip().lower().replace("_", "-").replace(" ", "-")
    if aliases:
        v = aliases.get(v, v)
    if v not in options:
        raise InvalidValueError(field, value, "one of " + ", ".join(options))
    return v


def text(field: str, value, *, max_len: int, optional: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip() and optional):
        if optional:
            return None
        raise InvalidValueError(field, value, "a non-empty text")
    if not isinstance(value, str):
        raise InvalidValueError(field, value, "a text")
    v = value.strip()
    if not v:
        raise InvalidValueError(field, value, "a non-empty text")
    if len(v) > max_len:
        raise InvalidValueError(field, f"{v[:20]}… ({len(v)} characters)", f"at most {max_len} characters")
    return v


def name(field: str, value, *, max_len: int) -> str:
    """A name as people type and read it: Unicode's composed form (José typed two ways is one runner), no control
    characters (a tab would split the tab-separated ``runner list``)."""
    v = text(field, value, max_len=max_len, optional=False)
    if any(unicodedata.category(c) == "Cc" for c in v):
        raise InvalidValueError(field, v, "a name without tabs, line breaks or other control characters")
    return unicodedata.normalize("NFC", v)


def tz(field: str, value: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValueError(field, value, "an IANA time zone name such as 'Europe/Amsterdam' or 'UTC'") from None


def day(field: str, value) -> date:
    """A calendar date from a ``date`` or an ISO string ``YYYY-MM-DD``."""
    if isinstance(value, datetime):
        raise InvalidValueError(field, value, "a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            pass
    if isinstance(value, date):
        if value < EARLIEST_DATE:
            raise InvalidValueError(field, str(value), f"a date from {EARLIEST_DATE} on", "is the year right?")
        return value
    raise InvalidValueError(field, value, "a date as YYYY-MM-DD")


def moment(field: str, value, zone: ZoneInfo) -> datetime:
    """A timezone-aware datetime; a naive one (or ISO string without offset) is read in ``zone``.

    A clock time that ``zone`` skips (the hour the clocks go forward) is refused rather than moved, and one it
    has twice (the hour the clocks go back) is refused rather than guessed: the offset tells them apart."""
    if isinstance(value, str):
        s = value.strip()
        if s.endswith("Z"):
            s = s[:-1] + "+00:00"
        try:
            value = datetime.fromisoformat(s)
        except ValueError:
            raise InvalidValueError(field, value, "a date and time such as 2026-03-01T07:30 or 2026-03-01T07:30+01:00") from None
    if isinstance(value, datetime):
        if not EARLIEST_DATE <= value.date() < LATEST_DATE:
            raise InvalidValueError(field, value.isoformat(timespec="minutes"),
                                    f"a date from {EARLIEST_DATE} to {LATEST_DATE - timedelta(days=1)}",
                                    "is the year right?")
        if value.tzinfo is None:
            naive = value
            value = value.replace(tzinfo=zone)
            if value.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != naive:
                raise InvalidValueError(field, naive.isoformat(timespec="minutes"),
                                        f"a clock time that exists in {zone.key} (the clocks went forward over it "
                                        "that night)", "give the time after the change, or the time with its "
                                        "offset such as 2026-03-29T02:30+01:00")
            first, second = value.utcoffset(), value.replace(fold=1).utcoffset()
            if first != second:
                def hhmm(td) -> str:
                    m = int(td.total_seconds() // 60)
                    return f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"

                raise InvalidValueError(field, naive.isoformat(timespec="minutes"),
                                        f"a clock time that happened once in {zone.key} (the clocks went back over "
                                        "it that night, so it happened twice)",
                                        f"give it with its offset: {naive.isoformat(timespec='minutes')}{hhmm(first)} "
                                        f"for the first time, {hhmm(second)} for the second")
        return value.astimezone(timezone.utc)
    raise InvalidValueError(field, value, "a date and time (datetime or ISO 8601 text)")
