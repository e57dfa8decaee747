"""Small layout helpers shared by the pages."""

from __future__ import annotations

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
