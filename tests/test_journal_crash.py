"""A writer killed with SIGKILL in the middle of a transaction leaves a consistent journal.

The child process writes continuously: batches of 30 sitting days (one
transaction each, all or none) and single pain reports, printing a line only
after each write has returned (= confirmed to the user).  To kill it *inside*
a transaction, not just somewhere between writes, the child hooks the engine:
at the chosen write it prints ``inside`` right after the INSERT has executed
(before COMMIT) and waits; the parent then sends SIGKILL.  The parent checks
that the database is intact, that every confirmed entry is there, and that the
interrupted write left nothing behind.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from journal import Journal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

BATCH = 30

CHILD = textwrap.dedent(f"""
    import sys
    import time
    from datetime import date, timedelta

    from sqlalchemy import event

    from journal import Journal
    from journal.errors import UnknownRunnerError

    url, runner, table, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    state = {{"i": -1}}
    with Journal.open(url) as j:
        try:
            j.runner(runner)
        except UnknownRunnerError:
            j.add_runner(runner)

        @event.listens_for(j._engine, "after_cursor_execute")
        def _inside(conn, cursor, statement, params, context, executemany):
            if state["i"] == kill_at and statement.startswith(f"INSERT INTO {{table}}"):
                print("inside", flush=True)
                time.sleep(30)  # killed here: after the INSERT, before COMMIT

        print("ready", flush=True)
        i = 0
        while i <= kill_at + 2:  # the hook must have fired by then; stop rather than hang the test
            state["i"] = i
            days = []
            for k in range({BATCH}):
                d = date(2000, 1, 1) + timedelta(days={BATCH} * i + k)
                days.append({{"date": d.isoformat(), "sitting_s": 20000.0 + k, "bouts_ge_30min": 4,
                             "bouts_ge_2h": 0, "longest_sitting_s": 5000.0, "breaks_per_sitting_h": 2.0,
                             "wear_s": 50000.0, "flags": []}})
            j.add_days(days, runner=runner, source_path=f"batch-{{i}}")
            print(f"batch {{i}}", flush=True)
            pid = j.add_pain(3, runner=runner, where="leg", when="other", at=f"2001-01-01T10:{{i % 60:02d}}")
            print(f"pain {{pid}}", flush=True)
            i += 1
""")


def _kill_inside(url: str, runner: str, table: str, kill_at: int) -> tuple[list[str], int]:
    """Run the writer until it is inside the INSERT into ``table`` of write ``kill_at``; SIGKILL it there."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, url, runner, table, str(kill_at)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=Path(__file__).resolve().parents[1])
    lines: list[str] = []
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        while True:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"writer stopped early: {proc.stderr.read()}")
            if line.strip() == "inside":
                break
            lines.append(line.strip())
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    return lines, proc.returncode


@pytest.mark.parametrize("table, kill_at", [("sitting_days", 3), ("pain_reports", 5)])
def test_sigkill_inside_a_transaction_keeps_confirmed_entries(tmp_path, table, kill_at):
    path = tmp_path / "j.sqlite3"
    url = f"sqlite:///{path}"
    with Journal.open(url):
        pass  # schema in place before the writer starts
    confirmed, returncode = _kill_inside(url, "ana", table, kill_at)
    assert returncode == -signal.SIGKILL
    batches = [int(x.split()[1]) for x in confirmed if x.startswith("batch")]
    pains = [int(x.split()[1]) for x in confirmed if x.startswith("pain")]
    # killed inside write number kill_at: batches 0..kill_at-1 confirmed (and kill_at too when the
    # pain report was the write being interrupted)
    assert batches == list(range(kill_at + (table == "pain_reports")))
    assert len(pains) == kill_at

    con = sqlite3.connect(path)
    try:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
        per_import = dict(con.execute(
            "select i.path, count(d.id) from imports i left join sitting_days d on d.import_id = i.id "
            "group by i.id").fetchall())
        n_pains = con.execute("select count(*) from pain_reports").fetchone()[0]
    finally:
        con.close()
    # exactly the confirmed writes are there: the interrupted one left nothing, not even half a batch
    assert per_import == {f"batch-{b}": BATCH for b in batches}
    assert n_pains == len(pains)

    with Journal.open(url) as j:  # opens (and migrates) normally after the crash
        assert len(j.sitting_days(runner="ana")) == BATCH * len(batches)
        assert set(j.pain_reports(runner="ana")["id"]) == set(pains)
        j.add_pain(2, runner="ana", where="leg", when="other", at="2001-02-01T10:00")  # writable again
        assert len(j.pain_reports(runner="ana")) == len(pains) + 1
