"""The Dash app: :func:`create_app`.

Pages live in :mod:`dashboard.pages` (one module each, with ``PATH``,
``TITLE``, ``layout(settings, runner, query)`` and ``register(app)``); a small
router shows the page of the URL.  The app owns no module-level state: its
settings sit in the Flask config, the live sessions of the Live page and a
small bounded cache of page computations (:class:`dashboard.data.PageCache`,
keyed by the journal's content version or the recording's cache key) in
objects attached to the app (``server.extensions``), and everything else is
read from the journal on each request.

Speed
-----
The page the browser asks for is rendered into Dash's first layout (no
callback round trip before it is drawn, see :func:`_requested_page`); pages
with graphs (``HAS_GRAPHS``) load plotly.js themselves, the "basic" bundle
(bar, pie, scatter: a quarter of the full one), from the start (see
:func:`_preload_plotly_js`); the server keeps a bounded cache of page
computations.  See bench/speed_dashboard.py for the measured effect.

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
import json
import tempfile
from pathlib import Path

import dash
from dash import Input, Output, State, dcc, html, no_update

from dashboard.data import DEFAULT_MAX_UPLOAD_BYTES, PageCache, Settings, runner_names
from dashboard.pages.common import query_of, with_query

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
               samples_dir: str | Path | None = None, page_cache_entries: int = 16) -> dash.Dash:
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
    page_cache_entries
        How many page computations (a Timeline, a run's figures…) the app keeps.
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
    from journal import Journal

    with Journal.open(url):  # a file that is no journal, a server that is down: said now (JournalError), not as HTTP 500
        pass
    ddir = Path(data_dir) if data_dir is not None else _default_data_dir(url)
    ddir.mkdir(parents=True, exist_ok=True)
    settings = Settings(journal_url=url, data_dir=ddir.resolve(), max_upload_bytes=int(max_upload_bytes),
                        **({"samples_dir": Path(samples_dir)} if samples_dir is not None else {}))
    from dashboard.data import prune_stale_caches

    prune_stale_caches(settings)  # reports and signals cached by other versions of the code are never read again

    pages = _pages()
    cache = diskcache.Cache(str(ddir / "cache" / "background"))
    app = _Dash(__name__, title="backstride", suppress_callback_exceptions=True,
                background_callback_manager=DiskcacheManager(cache), update_title=None)
    server = app.server
    server.config["BACKSTRIDE"] = settings
    server.extensions["backstride_cache"] = PageCache(max_entries=page_cache_entries)
    plotly_url = app.config.requests_pathname_prefix.rstrip("/") + _serve_plotly_js(server)
    app.regenerator_url = app.config.requests_pathname_prefix.rstrip("/") + _serve_static(server, REGENERATOR)
    graph_paths = [p.PATH for p in pages if getattr(p, "HAS_GRAPHS", False)]
    app.index_string = app.index_string.replace(
        "{%config%}", "{%config%}\n            <script>window._backstridePlotlyURL = " + json.dumps(plotly_url)
        + ";\n" + _preload_plotly_js(graph_paths) + "</script>")
    # The request carries the file base64-encoded (4/3 of its size) inside JSON: room for that, then refuse.
    server.config["MAX_CONTENT_LENGTH"] = int(max_upload_bytes * 1.5) + 1_000_000
    if password:
        _require_password(server, password)

    app.layout = lambda: _shell(settings, pages, _requested_page(app))
    _register_router(app, pages, settings)
    for page in pages:
        page.register(app, settings)
    from dashboard import report

    report.register_routes(server, settings)
    return app


#: plotly.js "basic" bundle (traces bar, pie, scatter: all the dashboard draws), from the npm package
#: plotly.js-basic-dist-min, MIT licence (beside it).  A quarter of the full bundle that dcc.Graph loads.
PLOTLY_BASIC = Path(__file__).resolve().parent / "static" / "plotly-basic-3.7.0.min.js"
PLOTLY_JS_ROUTE = "/_backstride/plotly.js"


def plotly_bundle() -> Path:
    """The plotly.js the pages load: the basic bundle when it matches the installed plotly's plotly.js, else the full one.

    The figures are built by the installed plotly (Python); a basic bundle of
    another plotly.js version could read them differently, so it is used only
    when the versions match (a plotly upgrade falls back to the full bundle).
    """
    import plotly
    from plotly.offline import get_plotlyjs_version

    if PLOTLY_BASIC.is_file() and PLOTLY_BASIC.name == f"plotly-basic-{get_plotlyjs_version()}.min.js":
        return PLOTLY_BASIC
    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def _serve_plotly_js(server) -> str:
    """Serve :func:`plotly_bundle` under a URL that names its version and size (so browsers may keep it a year)."""
    return _serve_static(server, plotly_bundle(), route=PLOTLY_JS_ROUTE, name="plotly.min.js")


def _serve_static(server, path: Path, *, route: str | None = None, name: str | None = None) -> str:
    """Serve the script ``path`` under a URL that names its version and size (so browsers may keep it a year)."""
    import flask

    st = path.stat()
    tag = f"{path.stem.replace('.', '-')}-{st.st_size}-{st.st_mtime_ns}"
    route = route or f"/_backstride/{path.stem}"
    name = name or path.name

    def _send(tag_):
        return flask.send_file(path, mimetype="text/javascript", max_age=365 * 86400, conditional=True)

    server.add_url_rule(f"{route}/<tag_>/{name}", endpoint=f"backstride_static_{path.stem}", view_func=_send)
    return f"{route}/{tag}/{name}"


#: regenerator-runtime (npm package, MIT licence beside it): the one part of Dash's @babel/polyfill
#: that dcc's bundle needs in a current browser (see :class:`_Dash`).
REGENERATOR = Path(__file__).resolve().parent / "static" / "regenerator-runtime-0.13.11.js"


class _Dash(dash.Dash):
    """Dash that loads regenerator-runtime (25 kB) in place of the whole @babel/polyfill (99 kB, core-js 2).

    Dash ships @babel/polyfill for old browsers; every browser that runs its
    React 18 has natively what core-js supplies, and dcc's bundle only needs
    the global ``regeneratorRuntime`` (its transpiled async functions).
    Evaluating core-js and its replacements of built-ins cost ~0.1 s of the
    browser's CPU per page, a quarter of it while the graphs draw (measured
    in bench/RESULTS.md, section "Dashboard (issue 6)").
    """

    regenerator_url: str | None = None

    def interpolate_index(self, **kwargs):
        if self.regenerator_url:
            lines = kwargs.get("scripts", "").split("\n")
            kwargs["scripts"] = "\n".join(f'<script src="{self.regenerator_url}"></script>'
                                          if "/deps/polyfill@" in line else line for line in lines)
        return super().interpolate_index(**kwargs)


def _preload_plotly_js(paths: list[str]) -> str:
    """JavaScript for the page (in its HTML) that starts loading plotly.js at once on pages with graphs.

    The graphs of the requested page come with the first layout (see
    :func:`_requested_page`), and dcc.Graph would then load the full plotly.js
    (4.8 MB, ~0.4 s to evaluate on a busy machine) itself.  This loads
    :func:`plotly_bundle` (the basic bundle, 1.1 MB) as soon as Dash has
    asked for the layout (its first ``fetch``, wrapped once for that), so that
    it is evaluated while the server builds the page.  ``window.Plotly`` holds a promise until the script has run
    (dcc.Graph waits on it: ``Promise.resolve(window.Plotly || load())``);
    plotly.js then replaces it with itself.  Other pages do not load it
    (dcc.Graph loads it if one of them shows a graph after all).
    """
    return r"""(function () {
  if (window.Plotly || %s.indexOf(window.location.pathname.replace(/(.)\/$/, '$1')) < 0) { return; }
  var s = document.createElement('script');
  s.src = window._backstridePlotlyURL;
  s.async = true;
  window.Plotly = new Promise(function (resolve, reject) { s.onload = resolve; s.onerror = reject; });
  // added once Dash has asked for its layout (its first fetch): evaluated while the server builds the page
  var add = function () { if (!s.parentNode) { document.head.appendChild(s); } };
  var fetch0 = window.fetch;
  window.fetch = function () {
    window.fetch = fetch0;
    var r = fetch0.apply(this, arguments);
    setTimeout(add, 0);
    return r;
  };
  setTimeout(add, 2000);  // (should Dash ever not use fetch)
})();""" % json.dumps(paths)


def _requested_page(app: dash.Dash) -> tuple[str, str] | None:
    """``(pathname, search)`` of the page whose layout the browser is asking for, from the request's Referer.

    Dash asks for ``/_dash-layout`` from the page itself, so the Referer names
    the page (same origin: browsers send the full URL).  Rendering that page
    into the first layout spares a callback round trip before anything is
    drawn; without a Referer (a browser set to send none) the router callback
    renders the page as before.
    """
    import flask
    from urllib.parse import urlsplit

    try:
        ref = flask.request.referrer
    except RuntimeError:  # not in a request (a test building the layout)
        return None
    if not ref:
        return None
    u = urlsplit(ref)
    if u.netloc and u.netloc != flask.request.host:
        return None
    prefix = app.config.requests_pathname_prefix.rstrip("/")
    path = u.path
    if prefix:
        if not path.startswith(prefix):
            return None
        path = path[len(prefix):]
    return (path or "/"), (f"?{u.query}" if u.query else "")


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


def _shell(settings: Settings, pages, requested: tuple[str, str] | None = None) -> html.Div:
    """The frame of every page: navigation, the runner picker and the page area.

    With ``requested`` (pathname, search), that page is rendered in place
    and its key stored in ``page-key``, so that the router's first call has
    nothing to do (see :func:`_register_router`).
    """
    try:
        names = runner_names(settings)
        problem = None
    except Exception as exc:  # a journal that cannot be opened: say so in the page
        names, problem = [], f"cannot open the journal {settings.journal_url}: {exc}"
    # the runner of the address (?runner=NAME) when it names one, so that the picker shows the page's runner
    wanted = query_of(requested[1]).get("runner") if requested is not None else None
    runner = wanted if wanted in names else (names[0] if names else None)
    content, key = None, None
    if requested is not None and problem is None:
        try:
            content = _render(settings, {p.PATH: p for p in pages}, requested[0], requested[1], runner)
            key = _page_key(requested[0], requested[1], runner)
        except Exception:  # leave it to the router callback, which shows the error as before
            content, key = None, None
    links = [dcc.Link(p.TITLE, href=p.PATH, id=f"nav-{p.__name__.rsplit('.', 1)[-1]}") for p in pages
             if getattr(p, "IN_NAV", True)]
    return html.Div([
        dcc.Location(id="url", refresh="callback-nav"),
        html.Div([html.B("backstride"), *links,
                  html.Span("runner:", style={"marginLeft": "auto"}),
                  dcc.Dropdown(id="runner", options=names, value=runner, clearable=False,
                               persistence=True, persistence_type="session", style={"width": "14em"})],
                 style=NAV_STYLE),
        html.Div(problem, id="journal-problem", style={"color": "#b00", "padding": "0 1em"}) if problem else None,
        dcc.Store(id="page-key", data=key),
        html.Div(content, id="page", style={"padding": "0.5em 1em", "fontFamily": "system-ui, sans-serif"}),
        html.Footer("backstride measures and shows; it does not diagnose. Flags are patterns worth a look, "
                    "worth discussing with a physiotherapist who works with runners when they persist.",
                    style={"color": "#777", "fontSize": "0.8em", "padding": "1em"}),
    ])


def _page_key(pathname: str | None, search: str | None, runner: str | None) -> str:
    """What a rendered page depends on: its path, its query and the runner it shows."""
    runner = query_of(search).get("runner") or runner
    return json.dumps([(pathname or "/").rstrip("/") or "/", search or "", runner])


def _render(settings: Settings, by_path: dict, pathname: str | None, search: str | None, runner: str | None):
    """The content of the page at ``pathname`` with query ``search`` for ``runner``."""
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


#: Query keys that name something of one runner (a run, a recording): dropped when another runner is picked.
RUNNER_OWN_KEYS = ("id", "compare", "rec")


def runner_sync(search: str | None, runner: str | None, names: list[str], picked: bool
                ) -> tuple[str | None, str | None]:
    """Keep the runner picker and the address's ``?runner=`` one runner: ``(picker value, search)`` to set
    (None: leave as it is).

    ``picked``: the user chose ``runner`` in the picker; the address then follows (``runner=`` set, the
    other runner's run or recording dropped).  Otherwise the address changed (a link, a typed URL, the first
    load, where the picker may show the runner remembered from earlier in the session): the picker follows
    the address's runner when it is one of ``names``.
    """
    wanted = query_of(search).get("runner")
    if picked:
        if not runner or wanted == runner:
            return None, None
        return None, with_query(search, runner=runner, **dict.fromkeys(RUNNER_OWN_KEYS))
    if wanted and wanted != runner and wanted in names:
        return wanted, None
    return None, None


def _register_router(app: dash.Dash, pages, settings: Settings) -> None:
    from dash import ctx

    by_path = {p.PATH: p for p in pages}

    @app.callback(Output("runner", "value", allow_duplicate=True), Output("url", "search", allow_duplicate=True),
                  Input("url", "search"), Input("runner", "value"), prevent_initial_call="initial_duplicate")
    def _sync_runner(search, runner):
        """One runner for the page and the picker (see :func:`runner_sync`); the router then renders it."""
        picked = ctx.triggered_id == "runner"
        names = [] if picked else runner_names(settings)
        value, new_search = runner_sync(search, runner, names, picked)
        return (no_update if value is None else value), (no_update if new_search is None else new_search)

    @app.callback(Output("page", "children"), Output("page-key", "data"), Input("url", "pathname"),
                  Input("url", "search"), Input("runner", "value"), State("page-key", "data"))
    def _route(pathname, search, runner, shown):
        """Render the page of the URL, unless the first layout already holds it (same path, query and runner)."""
        key = _page_key(pathname, search, runner)
        if key == shown:
            return no_update, no_update
        return _render(settings, by_path, pathname, search, runner), key
