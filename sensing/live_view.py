"""Terminal live view (rich): one row per sensor with its link and live form metrics.

Columns: sensor, placement, connection state, rate, samples, lost samples, link
drops, time, and the live metric that fits the placement: cadence and trunk
lean (lower back, chest), cadence and heel-strike indicator (shoe), the sitting
timer (lower back, chest, thigh).  Heart-rate straps and footpods get a row
each (kind ``heart rate`` / ``speed``): heart rate and the last RR intervals,
or speed, pace and cadence; ``samples`` counts their notifications.  Built by
pure functions from
:meth:`sensing.session.LiveSession.snapshot`, so it is testable without a
terminal.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.table import Table

from analysis.constants import FOOT_PLACEMENTS

_STATE_STYLE = {"connecting": "yellow", "streaming": "green", "reconnecting": "bold yellow", "finished": "cyan", "error": "bold red"}


def _fmt(value, fmt: str, unit: str = "") -> str:
    return "–" if value is None else f"{value:{fmt}}{unit}"


def metrics_text(sensor: dict) -> str:
    """The live metrics that fit the sensor's placement, as one line."""
    placement = sensor.get("placement")
    parts = []
    if sensor.get("cadence_spm") is not None:
        parts.append(f"cadence {sensor['cadence_spm']:.0f} steps/min")
    if placement in FOOT_PLACEMENTS:
        parts.append(f"strike {sensor.get('heel_strike') or '–'}")
    else:
        if sensor.get("trunk_lean_deg") is not None:
            parts.append(f"trunk lean {sensor['trunk_lean_deg']:+.1f}°")
        sit = sensor.get("sitting_s")
        if sit is not None and sit > 0:
            m, s = divmod(int(sit), 60)
            flag = "  (stand up and walk)" if sit >= 30 * 60 else ""
            parts.append(f"sitting {m}:{s:02d}{flag}")
    return ", ".join(parts) or "–"


def stream_text(stream: dict) -> str:
    """The latest values of a heart-rate or RSC stream, as one line."""
    parts = []
    if stream.get("kind") == "heart_rate":
        if stream.get("hr_bpm") is not None:
            parts.append(f"heart rate {stream['hr_bpm']:.0f} bpm")
        rr = stream.get("rr_s") or []
        if rr:
            parts.append("RR " + " ".join(f"{x * 1000:.0f}" for x in rr) + " ms")
        if stream.get("contact") is False:
            parts.append("no skin contact")
        if stream.get("hr_mean_bpm") is not None:
            parts.append(f"mean {stream['hr_mean_bpm']:.0f} bpm")
    else:
        v = stream.get("speed_m_s")
        if v is not None:
            pace = f" ({int(1000 / v // 60)}:{int(1000 / v % 60):02d} /km)" if v > 0.5 else ""
            parts.append(f"speed {v:.2f} m/s{pace}")
        if stream.get("cadence_per_min") is not None:
            parts.append(f"cadence {stream['cadence_per_min']:.0f}/min")
        if stream.get("total_distance_m") is not None and stream["total_distance_m"] == stream["total_distance_m"]:
            parts.append(f"{stream['total_distance_m'] / 1000:.2f} km")
        if stream.get("running") is not None:
            parts.append("running" if stream["running"] else "walking")
    return ", ".join(parts) or "–"


def build_table(snapshot: dict, title: str = "backstride live") -> Table:
    table = Table(title=title, expand=False)
    for col, justify in (("sensor", "left"), ("placement", "left"), ("state", "left"), ("rate Hz", "right"),
                         ("samples", "right"), ("lost", "right"), ("drops", "right"), ("time", "right"), ("live form", "left")):
        table.add_column(col, justify=justify)
    for s in snapshot.get("sensors") or [snapshot]:
        state = s.get("state") or "?"
        err = f" ({s['error']})" if s.get("error") else ""
        lost = s.get("lost_samples") or 0
        table.add_row(
            str(s.get("sensor") or "–"), str(s.get("placement") or "–"),
            f"[{_STATE_STYLE.get(state, '')}]{state}[/]{err}", _fmt(s.get("rate_hz"), ".1f"),
            str(s.get("samples_received") or 0), f"[red]{lost}[/]" if lost else "0", str(s.get("link_drops") or 0),
            _fmt(s.get("t_s"), ".1f", " s"), metrics_text(s),
        )
    for s in snapshot.get("streams") or []:
        state = s.get("state") or "?"
        err = f" ({s['error']})" if s.get("error") else ""
        bad = s.get("corrupt_frames") or 0
        table.add_row(
            f"{s.get('sensor') or '–'} · {'heart rate' if s.get('kind') == 'heart_rate' else 'speed'}",
            str(s.get("placement") or "–"), f"[{_STATE_STYLE.get(state, '')}]{state}[/]{err}", _fmt(s.get("rate_hz"), ".1f"),
            str(s.get("measurements") or 0), f"[red]{bad} corrupt[/]" if bad else "0", str(s.get("link_drops") or 0),
            _fmt(s.get("t_s"), ".1f", " s"), stream_text(s),
        )
    if snapshot.get("error") and not snapshot.get("sensors") and not snapshot.get("streams"):
        table.caption = f"[red]{snapshot['error']}[/]"
    return table


def run_live_view(session, *, console: Console | None = None, refresh_hz: float = 4.0, until_finished: bool = True,
                  title: str = "backstride live") -> dict:
    """Show the table until the session ends (or Ctrl-C, which propagates); returns the last snapshot."""
    console = console or Console()
    if not console.is_terminal:
        # piped or redirected: a table redrawn in place means nothing there (rich's Live would write its last
        # frame without a line end, gluing the next line to it); the final table once, as a line of output
        try:
            while until_finished and session.running:
                time.sleep(1.0 / refresh_hz)
        finally:  # Ctrl-C too: the table as it stood, as Live leaves its last frame
            snap = session.snapshot()
            console.print(build_table(snap, title))
        return snap
    with Live(build_table(session.snapshot(), title), console=console, refresh_per_second=refresh_hz, transient=False) as live:
        while True:
            snap = session.snapshot()
            live.update(build_table(snap, title))
            if until_finished and not session.running:
                return session.snapshot()
            time.sleep(1.0 / refresh_hz)
