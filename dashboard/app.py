"""The Dash app: :func:`create_app`.

Pages live in :mod:`dashboard.pages` (one module each, with ``PATH``,
``TITLE``, ``layout(settings, runner, query)`` and ``register(app)``); a small
router shows the page of the URL.  The app owns no module-level state: its
settings sit in the Flask config, the live sessions of the Live page in an
object attached to the app, and everything else is read from the journal on
each request.

Safety
------
* It binds to 127.0.0.1 unless told otherwise; any other address needs a
  password (clinic mode: HTTP basic auth on every request, compared in
  constant time).  Run it behind HTTPS (a reverse proxy) when it leaves the
  machine: basic auth sends the password with every request.
* Uploads are limited in size (``max_upload_bytes``) and written only into
  ``data_dir/uploads`` under a name derived from their content.
"""

from __future__ import annotations

import hmac
import ipaddress
import tempfile
from pathlib import Path
from urllib.parse import parse_qs

import dash
from dash import Input, Output, dcc, html

from dashboard.data import DEFAULT_MAX_UPLOAD_BYTES, Settings, runner_names

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _pages():
    from dashboard.pages import day, live, log, run, runners, timeline

    return [timeline, run, day, live, log, runners]


def create_app(journal_url: str | None = None, *, data_dir: str | Path | None = None, host: str = DEFAULT_HOST,
               password: str | None = None, max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
               samples_dir: str | Path | None = None) -> dash.Dash:
    """Build the dashboard for the journal at ``journal_url``.

    Parameters
    ----------
    journal_url
        SQLAlchemy URL or path of the journal; None: the user's journal
        (:func:`journal.db.default_url`).
    data_dir
        Where uploads and the analysis cache go; default: a ``dashboard``
        folder beside a SQLite journal, else in the user data directory.
    host
        The address the server will listen on; anything but loopback needs a
        ``password``.
    password
        Required for every request when given (HTTP basic auth, any user name).
    max_upload_bytes
        Largest file the Log page accepts.
    """
    from dash import DiskcacheManager
    import diskcache

    from journal.db import default_url, normalise_url

    url = normalise_url(journal_url) if journal_url is not None else default_url()
    if not is_loopback(host) and not password:
        raise ValueError(f"listening on {host!r} makes the journal reachable from other machines: "
                         "give a password (clinic mode: --password-env VAR), or use 127.0.0.1")
    if max_upload_bytes <= 0:
        raise ValueError(f"max_upload_bytes must be positive, got {max_upload_bytes}")
    ddir = Path(data_dir) if data_dir is not None else _default_data_dir(url)
    ddir.mkdir(parents=True, exist_ok=True)
    settings = Settings(journal_url=url, data_dir=ddir.resolve(), max_upload_bytes=int(max_upload_bytes),
                        **({"samples_dir": Path(samples_dir)} if samples_dir is not None else {}))

    cache = diskcache.Cache(str(ddir / "cache" / "background"))
    app = dash.Dash(__name__, title="backstride", suppress_callback_exceptions=True,
                    background_callback_manager=DiskcacheManager(cache), update_title=None)
    server = app.server
    server.config["BACKSTRIDE"] = settings
    # The request carries the file base64-encoded (4/3 of its size) inside JSON: room for that, then refuse.
    server.config["MAX_CONTENT_LENGTH"] = int(max_upload_bytes * 1.5) + 1_000_000
    if password:
        _require_password(server, password)

    pages = _pages()
    app.layout = lambda: _shell(settings, pages)
    _register_router(app, pages, settings)
    for page in pages:
        page.register(app, settings)
    from dashboard import report

    report.register_routes(server, settings)
    return app


def _default_data_dir(url: str) -> Path:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        return Path(u.database).expanduser().resolve().parent / "dashboard"
    try:
        import platformdirs

        return Path(platformdirs.user_data_dir("backstride", appauthor=False)) / "dashboard"
    except ImportError:  # pragma: no cover
        return Path(tempfile.gettempdir()) / "backstride-dashboard"


def _require_password(server, password: str) -> None:
    import flask

    expected = password.encode()

    @server.before_request
    def _check_password():
        auth = flask.request.authorization
        given = (auth.password or "").encode() if auth is not None else b""
        if auth is not None and hmac.compare_digest(given, expected):
            return None
        return flask.Response("backstride: this dashboard needs the clinic password.\n", 401,
                              {"WWW-Authenticate": 'Basic realm="backstride", charset="UTF-8"'})


NAV_STYLE = {"display": "flex", "gap": "1.2em", "alignItems": "center", "padding": "0.6em 1em",
             "borderBottom": "1px solid #ddd", "fontFamily": "system-ui, sans-serif"}


def _shell(settings: Settings, pages) -> html.Div:
    """The frame of every page: navigation, the runner picker and the page area."""
    try:
        names = runner_names(settings)
        problem = None
    except Exception as exc:  # a journal that cannot be opened: say so in the page
        names, problem = [], f"cannot open the journal {settings.journal_url}: {exc}"
    links = [dcc.Link(p.TITLE, href=p.PATH, id=f"nav-{p.__name__.rsplit('.', 1)[-1]}") for p in pages
             if getattr(p, "IN_NAV", True)]
    return html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        html.Div([html.B("backstride"), *links,
                  html.Span("runner:", style={"marginLeft": "auto"}),
                  dcc.Dropdown(id="runner", options=names, value=names[0] if names else None, clearable=False,
                               persistence=True, persistence_type="session", style={"width": "14em"})],
                 style=NAV_STYLE),
        html.Div(problem, id="journal-problem", style={"color": "#b00", "padding": "0 1em"}) if problem else None,
        html.Div(id="page", style={"padding": "0.5em 1em", "fontFamily": "system-ui, sans-serif"}),
        html.Footer("backstride measures and shows; it does not diagnose. Flags are patterns worth a look, "
                    "worth discussing with a physiotherapist who works with runners when they persist.",
                    style={"color": "#777", "fontSize": "0.8em", "padding": "1em"}),
    ])


def query_of(search: str | None) -> dict[str, str]:
    """``?a=1&b=2`` → ``{"a": "1", "b": "2"}`` (last value wins)."""
    return {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}


def _register_router(app: dash.Dash, pages, settings: Settings) -> None:
    by_path = {p.PATH: p for p in pages}

    @app.callback(Output("page", "children"), Input("url", "pathname"), Input("url", "search"),
                  Input("runner", "value"))
    def _route(pathname, search, runner):
        page = by_path.get((pathname or "/").rstrip("/") or "/")
        if page is None:
            return html.Div([html.H2("Not found"), html.P(f"No page at {pathname}."), dcc.Link("Timeline", href="/")])
        query = query_of(search)
        runner = query.get("runner") or runner
        try:
            return page.layout(settings, runner, query)
        except Exception as exc:  # show what went wrong instead of an empty page
            from journal.errors import JournalError

            if isinstance(exc, JournalError):
                return html.Div([html.H2(page.TITLE), html.P(str(exc), className="error", style={"color": "#b00"})])
            raise
