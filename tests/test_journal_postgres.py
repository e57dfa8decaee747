"""The journal on a real PostgreSQL server (the clinic setup), against SQLite as the reference.

A throw-away cluster is created in a temporary directory with the server's own ``initdb`` and
``pg_ctl`` and listens only on a Unix socket in that directory (no TCP port, nothing leaves
the machine).  ``make test`` installs Debian's ``postgresql`` package; without it (or without
the ``psycopg`` driver) these tests skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest

psycopg = pytest.importorskip("psycopg")


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_server_user(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` account then."""
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root without runuser: cannot start a PostgreSQL server")
    return [runuser, "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="module")
def pg_url():
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (make test installs Debian's postgresql)")
    # Not under pytest's tmp dir: that is private to the test user, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="backstride-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sock, "postgres")
    def run(cmd):
        done = subprocess.run(_as_server_user(cmd), capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{cmd[0]} failed: {done.stderr or done.stdout}")
    run([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "backstride", "--no-sync"])
    run([str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "server.log"),
         "-o", f"-k {sock} -c listen_addresses='' -p 54329 -c fsync=off", "start"])
    try:
        yield f"postgresql+psycopg://backstride@/postgres?host={sock}&port=54329"
    finally:
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _frames(url: str) -> dict[str, pd.DataFrame]:
    from journal import Journal
    from journal.demo import load_demo

    name = load_demo(url)
    with Journal.open(url) as j:
        tl = j.timeline(runner=name, weeks=None)
        return {
            "runs": j.runs(runner=name),
            "pain": j.pain_reports(runner=name),
            "daily": tl.daily,
            "weekly": tl.weekly,
            "associations": j.associations(runner=name, weeks=None),
        }


def test_demo_journal_on_postgres_equals_sqlite(pg_url, tmp_path):
    """Migrations run on an empty PostgreSQL database; every figure matches the SQLite journal."""
    pg = _frames(pg_url)
    lite = _frames(str(tmp_path / "ref.sqlite3"))
    for key in lite:
        assert len(pg[key]) == len(lite[key]) > 0, key
        a = pg[key].reset_index(drop=True)
        b = lite[key].reset_index(drop=True)
        drop = [c for c in ("id", "run_id", "recording_id") if c in a.columns]
        pd.testing.assert_frame_equal(a.drop(columns=drop), b.drop(columns=drop), check_dtype=False,
                                      check_exact=False, rtol=1e-9, obj=key)


def test_postgres_rejects_bad_value_and_keeps_data(pg_url):
    from journal import Journal
    from journal.errors import InvalidValueError

    with Journal.open(pg_url) as j:
        assert j.url.startswith("postgresql")
        runner = j.runners()[0].name
        before = len(j.pain_reports(runner=runner))
        with pytest.raises(InvalidValueError, match="12"):
            j.add_pain(12, where="lower-back-centre", when="after-run", runner=runner)
        assert len(j.pain_reports(runner=runner)) == before
