"""``backstride dashboard [--host H] [--port P] [--journal URL]``: serve the dashboard.

Binds to 127.0.0.1:8050 by default.  Any other address (clinic mode) needs a
password, read from an environment variable (``--password-env``, default
``BACKSTRIDE_DASHBOARD_PASSWORD``) so that it never appears in the process
list or the shell history.
"""

from __future__ import annotations

import argparse
import os
import sys

from dashboard.app import DEFAULT_HOST, DEFAULT_PORT

PASSWORD_ENV = "BACKSTRIDE_DASHBOARD_PASSWORD"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "dashboard", help="serve the dashboard (Dash app) at the address it prints; open that in your browser",
        description="Serve the dashboard (a Dash app) until Ctrl+C. It prints the address it serves at "
                    f"(http://{DEFAULT_HOST}:{DEFAULT_PORT}/ by default); open that address in your browser.")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to listen on (default {DEFAULT_HOST}; anything else needs a password)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--journal", metavar="URL", default=None,
                   help="journal database: SQLAlchemy URL or file path (default: $BACKSTRIDE_JOURNAL, "
                        "else journal.sqlite3 in the user data directory)")
    p.add_argument("--data-dir", default=None, help="where uploads and the analysis cache go "
                                                    "(default: beside the journal)")
    p.add_argument("--password-env", default=PASSWORD_ENV, metavar="VAR",
                   help=f"environment variable holding the clinic password (default {PASSWORD_ENV})")
    p.add_argument("--max-upload-mb", type=float, default=64.0, help="largest upload accepted (default 64 MB)")
    p.set_defaults(func=cmd_dashboard)


def serve(app, host: str, port: int) -> None:
    """Serve with waitress when installed (a production WSGI server), else Flask's own server."""
    try:
        from waitress import serve as waitress_serve
    except ImportError:
        app.run(host=host, port=port, debug=False)
        return
    waitress_serve(app.server, host=host, port=port, threads=8)


def cmd_dashboard(args) -> int:
    from dashboard.app import create_app

    if not 0 < args.port < 65536:
        print(f"error: --port {args.port}: expected 1-65535", file=sys.stderr)
        return 2
    password = os.environ.get(args.password_env) or None
    try:
        app = create_app(args.journal, data_dir=args.data_dir, host=args.host, password=password,
                         max_upload_bytes=int(args.max_upload_mb * 1e6))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"backstride dashboard on http://{shown}:{args.port}/ (journal: "
          f"{app.server.config['BACKSTRIDE'].journal_url}); Ctrl+C to stop", flush=True)
    serve(app, args.host, args.port)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="backstride")
    register(p.add_subparsers(dest="command"))
    args = p.parse_args(["dashboard", *(argv or sys.argv[1:])])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
