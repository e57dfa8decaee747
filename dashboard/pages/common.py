"""Small layout helpers shared by the pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from dash import html

ERROR_STYLE = {"color": "#b00020", "fontWeight": "bold"}
OK_STYLE = {"color": "#1b5e20"}
CARD_STYLE = {"border": "1px solid #ddd", "borderRadius": "6px", "padding": "0.6em 1em", "margin": "0.5em 0"}


def error(text: str, id: str | None = None) -> html.Div:
    kw = {"id": id} if id else {}
    return html.Div(text, className="error", style=ERROR_STYLE, **kw)


def ok(text: str) -> html.Div:
    return html.Div(text, className="ok", style=OK_STYLE)


def no_runner() -> html.Div:
    return html.Div([html.P("The journal has no runner yet."),
                     html.P(["Add one with ", html.Code("backstride runner add NAME"),
                             " or load the demo with ", html.Code("backstride runner demo"), "."])])


def table(rows: list[dict], columns: list[tuple[str, str]], id: str | None = None, row_style=None) -> html.Table:
    """A plain HTML table of ``rows`` (dicts) with ``columns`` as (key, header)."""
    head = html.Thead(html.Tr([html.Th(h, style={"textAlign": "left", "padding": "2px 8px"}) for _, h in columns]))
    body = []
    for r in rows:
        style = row_style(r) if row_style else None
        body.append(html.Tr([html.Td(r.get(k, ""), style={"padding": "2px 8px"}) for k, _ in columns], style=style))
    kw = {"id": id} if id else {}
    return html.Table([head, html.Tbody(body)], style={"borderCollapse": "collapse", "fontSize": "0.9em"}, **kw)


def query_of(search: str | None) -> dict[str, str]:
    """``?a=1&b=2`` → ``{"a": "1", "b": "2"}`` (last value wins)."""
    return {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}


def with_query(search: str | None, **changes) -> str:
    """``search`` (``?a=1&b=2``) with ``changes`` applied (None removes a key); the other keys (``runner``) stay."""
    query = query_of(search)
    for k, v in changes.items():
        if v is None:
            query.pop(k, None)
        else:
            query[k] = str(v)
    return "?" + urlencode(query) if query else ""


def local_time(t_utc, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """The moment ``t_utc`` (aware, or naive UTC) as clock time in the IANA zone ``tz``, the zone named:
    ``2025-03-01 00:30 (Europe/Amsterdam)``.  "–" when there is no moment."""
    import pandas as pd

    if t_utc is None or (not isinstance(t_utc, str) and pd.isna(t_utc)):
        return "–"
    t = pd.Timestamp(t_utc)
    t = t.tz_localize("UTC") if t.tzinfo is None else t
    return f"{t.tz_convert(tz):{fmt}} ({tz})"


def run_start(run, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A journal run's start as :func:`local_time`; a run entered with a date alone (``time_known`` False,
    stored at noon) as its date without a clock time: ``2025-03-01 (time not given)``."""
    import pandas as pd

    if not bool(run.get("time_known", True)):
        return f"{pd.Timestamp(run['local_date']):{fmt.split('%H')[0].rstrip()}} (time not given)"
    return local_time(run["start_utc"], tz, fmt)
