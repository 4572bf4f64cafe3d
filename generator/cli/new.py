"""``labpress new "Title"``: start a post with its identity filled in."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from rich.console import Console


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("new", help="start a new post", description="Start a new experiment post (status: draft).")
    parser.add_argument("title", help="the post's title")
    parser.add_argument("--series", metavar="KEY", help="a series key from labpress.toml; the post becomes its next step")
    parser.add_argument("--site", type=Path, default=Path("."), metavar="SITE_DIR", help="the site folder (default: .)")
    parser.add_argument("--date", type=dt.date.fromisoformat, metavar="YYYY-MM-DD", help="the post's date (default: today)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from labpress.content.scaffold import new_post  # here: the other verbs start without it

    day = args.date or dt.date.today()
    try:
        path = new_post(args.site, args.title, args.series, day)
    except FileExistsError as exc:
        stderr.print(f"error: {exc.args[0]} already exists: choose another title or edit that file", markup=False)
        return 1
    stdout.print(f"Wrote {path} (status: draft; build with --drafts to see it)", markup=False)
    return 0
