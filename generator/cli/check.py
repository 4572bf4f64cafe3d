"""``labpress check``: everything a build validates, and the built links, without writing output.

Meant for a CI gate or a pre-commit hook: it reports every problem at once and
exits 1 if there is any.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("check", help="validate the site without writing output",
                                   description="Validate posts, maths, widgets, links and images; write nothing.")
    parser.add_argument("site_dir", nargs="?", default=".", type=Path, metavar="SITE_DIR")
    parser.add_argument("--drafts", action="store_true", help="check drafts too")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from labpress.check.site import check_site  # here: `labpress --help` starts without the build

    errors, pages = check_site(args.site_dir.resolve(), args.drafts)
    for error in errors:
        stderr.print(str(error), markup=False)
    if errors:
        stderr.print(f"check failed: {len(errors)} problem{'s' if len(errors) != 1 else ''}", markup=False)
        return 1
    stdout.print(f"No problems found ({pages} pages checked)", markup=False)
    return 0
