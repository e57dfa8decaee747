"""Live: a connected sensor, or a recording replayed through the same path, as it happens.

Data come from :class:`sensing.session.LiveSession`, which runs the one
long-lived BLE/asyncio event loop in its own thread; this page only reads its
``snapshot()`` and ``samples_since(cursor)``.  The browser polls every
:data:`POLL_MS` ms (``dcc.Interval``) and sends its *cursor*; the server
answers with every sample after it and the new cursor, both in the same
response.  A response the browser drops therefore advances neither the chart
nor the cursor, and the next poll fetches those samples again: no sample is
lost or drawn twice (ECOSYSTEM.md: send cursors, not deltas).

The sessions of an app live in a :class:`LiveSessions` object attached to that
app (``server.extensions``), keyed by a random id the page keeps; nothing is
module-level state.
"""

from __future__ import annotations

import math
import secrets
import threading
from pathlib import Path

from dash import Input, Output, State, dcc, html, no_update

from dashboard import figures as F
from dashboard.data import Settings, offered_recordings
from dashboard.pages.common import CARD_STYLE, error

PATH = "/live"
TITLE = "Live"
#: The page draws Plotly graphs (the app starts loading plotly.js while the server builds it).
HAS_GRAPHS = True
#: Poll period of the page (ms): at least twice a second, as the issue asks, with room to spare.
POLL_MS = 200
#: Seconds of signal kept in the live chart.
WINDOW_S = 10.0
SPEEDS = (1, 2, 5, 10)
MAX_SESSIONS = 8


class LiveSessions:
    """The live sessions of one app, by key; at most :data:`MAX_SESSIONS` (the oldest is stopped).

    All of them run on one long-lived event loop in its own thread
    (:class:`sensing.session.LoopThread`, made at the first session), so
    BLE (bleak's D-Bus connection) always lives on the same loop.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._sessions: dict[str, object] = {}
        self.loop_thread = None

    def start(self, session) -> str:
        """Start ``session`` on the app's loop and keep it; its key."""
        with self._lock:
            if self.loop_thread is None:
                from sensing.session import LoopThread

                self.loop_thread = LoopThread()
        session.start(self.loop_thread)
        return self.add(session)

    def add(self, session) -> str:
        key = secrets.token_hex(8)
        with self._lock:
            while len(self._sessions) >= MAX_SESSIONS:
                old = self._sessions.pop(next(iter(self._sessions)))
                old.stop()
            self._sessions[key] = session
        return key

    def get(self, key: str | None):
        with self._lock:
            return self._sessions.get(key) if key else None

    def stop(self, key: str | None) -> None:
        with self._lock:
            s = self._sessions.pop(key, None) if key else None
        if s is not None:
            s.stop()

    def stop_all(self) -> None:
        with self._lock:
            items, self._sessions = list(self._sessions.values()), {}
        for s in items:
            s.stop()

    def close(self) -> None:
        """Stop every session and the loop thread (a later :meth:`start` makes a new one)."""
        self.stop_all()
        with self._lock:
            loop_thread, self.loop_thread = self.loop_thread, None
        if loop_thread is not None:
            loop_thread.close()


def _session_class():
    """:class:`sensing.session.LiveSession`, or None while that module is missing."""
    try:
        from sensing.session import LiveSession
    except ImportError:
        return None
    return LiveSession


def replay_sources(settings: Settings, runner: str | None) -> dict[str, Path]:
    """Recordings offered for replay, by the name shown: the sample recordings, then ``runner``'s own (uploads and
    files imported from the command line, :func:`dashboard.data.offered_recordings`); another runner's never."""
    return offered_recordings(settings, runner, sorted(settings.samples_dir.glob("*.parquet")))


def layout(settings: Settings, runner: str | None, query: dict) -> html.Div:
    from analysis.constants import PLACEMENTS

    if _session_class() is None:
        return html.Div([html.H2("Live"), html.P("Live data are not available in this version: the live session "
                                                 "module (sensing.session) is missing.", id="live-unavailable")])
    sources = list(replay_sources(settings, runner))
    default = next((s for s in sources if "lower_back" in s), sources[0] if sources else None)
    return html.Div([
        html.H2("Live"),
        html.Div([
            dcc.RadioItems(id="live-mode", options=[{"label": "replay a recording", "value": "replay"},
                                                    {"label": "connect a sensor (BLE)", "value": "sensor"}],
                           value="replay", inline=True, inputStyle={"marginLeft": "0.8em"}),
            html.Div([dcc.Dropdown(id="live-source", options=sources, value=default, clearable=False,
                                   style={"width": "22em"}),
                      dcc.Dropdown(id="live-speed", options=[{"label": f"{s}×", "value": s} for s in SPEEDS], value=1,
                                   clearable=False, style={"width": "6em"})],
                     id="live-replay-fields", style=_shown(True, {"gap": "1em", "margin": "0.4em 0"})),
            html.Div([dcc.Input(id="live-address", type="text", placeholder="sensor name or address"),
                      dcc.Input(id="live-strap", type="text",
                                placeholder="heart-rate strap or footpod (optional)"),
                      dcc.Dropdown(id="live-placement", options=list(PLACEMENTS), value="lower-back", clearable=False,
                                   style={"width": "12em"})],
                     id="live-sensor-fields", style=_shown(False, {"gap": "1em", "margin": "0.4em 0"})),
            html.Button("Start", id="live-start", style={"marginRight": "1em"}), html.Button("Stop", id="live-stop"),
            html.Div(id="live-message"),
        ], style=CARD_STYLE),
        html.Div([
            html.Span("state: "), html.B("idle", id="live-state"),
            html.Span(" · samples "), html.B("0", id="live-samples"),
            html.Span(" · lost "), html.B("0", id="live-lost"),
            html.Span(" · link drops "), html.B("0", id="live-drops"),
            html.Span(" · rate "), html.B("–", id="live-rate"),
            html.Span(" · latest sample at "), html.B("–", id="live-t"), html.Span(" s"),
        ], style={**CARD_STYLE, "fontSize": "0.95em"}),
        html.Div([
            _big("trunk lean", "live-lean"), _big("cadence", "live-cadence"), _big("heel strike", "live-heel"),
            _big("sitting", "live-sitting"), _big("heart rate", "live-hr"), _big("pace", "live-pace"),
        ], style={"display": "flex", "gap": "1em", "flexWrap": "wrap"}),
        dcc.Graph(id="live-graph", figure=F.live_figure(WINDOW_S), config={"displaylogo": False}),
        dcc.Store(id="live-key"), dcc.Store(id="live-cursor", data=0),
        # a replay reads the recordings of the runner this page was made for (whatever the picker shows meanwhile)
        dcc.Store(id="live-runner", data=runner),
        dcc.Interval(id="live-tick", interval=POLL_MS, disabled=True),
    ])


def _shown(shown: bool, style: dict) -> dict:
    """A row of fields, shown (a flex row) or not: the replay's fields in replay mode, the sensor's in sensor mode."""
    return {**style, "display": "flex" if shown else "none", "flexWrap": "wrap"}


def _big(label: str, id: str) -> html.Div:
    return html.Div([html.Div(label, style={"color": "#555"}), html.Div("–", id=id, style={"fontSize": "2em"})],
                    style={**CARD_STYLE, "minWidth": "9em", "textAlign": "center"})


def _fmt_metric(snap: dict) -> tuple[str, str, object, str, str, str]:
    """Trunk lean, cadence, heel strike, sitting timer, heart rate and pace (from a strap or footpod) as shown."""
    lean = snap.get("trunk_lean_deg")
    cad = snap.get("cadence_spm")
    heel = snap.get("heel_strike")
    sit = snap.get("sitting_s")

    def ok(x):
        return isinstance(x, (int, float)) and math.isfinite(x)

    heel_txt = "–" if heel is None else html.Span("● heel" if heel else "○ not heel",
                                                   style={"color": F.COLOUR["flag"] if heel else F.COLOUR["lean"]})
    sit_txt = ("–" if not ok(sit) else "not sitting" if sit == 0  # a timer at 0:00 read as "sitting" while running
               else f"{int(sit) // 60}:{int(sit) % 60:02d}")
    hr, speed = snap.get("hr_bpm"), snap.get("speed_m_s")
    hr_txt = f"{hr:.0f} bpm" if ok(hr) and hr > 0 else "–"
    pace_s = round(1000.0 / speed) if ok(speed) and speed > 0.5 else None  # slower than 0.5 m/s: standing
    pace_txt = "–" if pace_s is None else f"{pace_s // 60}:{pace_s % 60:02d} /km"
    return (f"{lean:.1f}°" if ok(lean) else "–", f"{cad:.0f}/min" if ok(cad) else "–", heel_txt, sit_txt, hr_txt,
            pace_txt)


def register(app, settings: Settings) -> None:
    sessions = LiveSessions()
    app.server.extensions["backstride_live"] = sessions

    @app.callback(Output("live-replay-fields", "style"), Output("live-sensor-fields", "style"),
                  Input("live-mode", "value"), State("live-replay-fields", "style"), prevent_initial_call=True)
    def _mode(mode, style):
        return _shown(mode == "replay", style or {}), _shown(mode != "replay", style or {})

    @app.callback(Output("live-key", "data"), Output("live-cursor", "data"), Output("live-tick", "disabled"),
                  Output("live-message", "children"), Output("live-graph", "figure"),
                  Input("live-start", "n_clicks"), State("live-key", "data"), State("live-mode", "value"),
                  State("live-source", "value"), State("live-speed", "value"), State("live-address", "value"),
                  State("live-placement", "value"), State("live-strap", "value"), State("live-runner", "data"),
                  prevent_initial_call=True)
    def _start(_, old_key, mode, source, speed, address, placement, strap=None, runner=None):
        LiveSession = _session_class()
        sessions.stop(old_key)
        try:
            if mode == "replay":
                path = replay_sources(settings, runner).get(source)
                if path is None:
                    raise ValueError(f"no recording {source!r} to replay")
                session = LiveSession.replay(path, speed=float(speed))
                what = f"replaying {source} at {speed}×"
            else:
                if not address:
                    raise ValueError("give the sensor's name or address")
                specs = [(address.strip(), placement)]
                if strap and strap.strip():  # a heart-rate strap (or footpod) beside the IMU, worn on the chest
                    specs.append((strap.strip(), "chest"))
                session = LiveSession.sensors(specs)
                what = f"connecting to {' and '.join(name for name, _ in specs)} ({placement})"
            key = sessions.start(session)
        except (ValueError, OSError, RuntimeError) as exc:
            return None, 0, True, error(f"not started: {exc}"), no_update
        return key, 0, False, what, F.live_figure(WINDOW_S)

    @app.callback(Output("live-tick", "disabled", allow_duplicate=True),
                  Output("live-message", "children", allow_duplicate=True),
                  Input("live-stop", "n_clicks"), State("live-key", "data"), prevent_initial_call=True)
    def _stop(_, key):
        sessions.stop(key)
        return True, "stopped"

    @app.callback(Output("live-graph", "extendData"), Output("live-cursor", "data", allow_duplicate=True),
                  Output("live-state", "children"), Output("live-samples", "children"), Output("live-lost", "children"),
                  Output("live-drops", "children"), Output("live-rate", "children"), Output("live-t", "children"),
                  Output("live-lean", "children"), Output("live-cadence", "children"), Output("live-heel", "children"),
                  Output("live-sitting", "children"), Output("live-hr", "children"), Output("live-pace", "children"),
                  Output("live-tick", "disabled", allow_duplicate=True),
                  Input("live-tick", "n_intervals"), State("live-key", "data"), State("live-cursor", "data"),
                  prevent_initial_call=True)
    def _tick(_, key, cursor):
        """Everything after the browser's cursor, and the new cursor, in one response."""
        session = sessions.get(key)
        if session is None:
            return (no_update, no_update, "no session (start one)", *[no_update] * 11, True)
        snap = session.snapshot()
        new_cursor, data = session.samples_since(int(cursor or 0))
        t, y = list(data.get("t_s", [])), list(data.get("acc_v_m_s2", []))
        rate = snap.get("rate_hz")
        keep = int(WINDOW_S * (rate if isinstance(rate, (int, float)) and rate and rate > 0 else 100))
        extend = ({"x": [t], "y": [y]}, [0], keep) if t else no_update
        state = snap.get("state") or "?"
        if snap.get("error"):
            state = f"{state}: {snap['error']}"
        done = snap.get("state") in ("finished", "error", "stopped")
        return (extend, new_cursor, state, f"{snap.get('samples_received') or 0:,}", f"{snap.get('lost_samples') or 0:,}",
                f"{snap.get('link_drops') or 0:,}", f"{rate:.0f} Hz" if isinstance(rate, (int, float)) else "–",
                f"{t[-1]:.2f}" if t else no_update, *_fmt_metric(snap), done and not t)
