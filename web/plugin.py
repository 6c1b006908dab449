"""The web app's `hubrota` subcommands, registered through the `hubrota.commands` entry points
(the engine's command line loads them without importing web/)."""

from __future__ import annotations

import argparse


def register_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="the web app (--demo: the sample federation on SQLite)")
    p.add_argument("--demo", action="store_true", help="load the sample and solve a first rota")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    from web.serve import serve

    return serve(demo=args.demo, host=args.host, port=args.port)
