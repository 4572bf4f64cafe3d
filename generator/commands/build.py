"""``labpress build``: the site directory in, a static site out."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ..build import build_site


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("build", help="build the static site", description="Build the static site.")
    parser.add_argument("site_dir", nargs="?", default=".", type=Path, metavar="SITE_DIR",
                        help="folder holding labpress.toml (default: the current folder)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: SITE_DIR/build)")
    parser.add_argument("--base-url", metavar="URL",
                        help="URL or path the site is served under, such as https://user.github.io/notebook/")
    parser.add_argument("--drafts", action="store_true", help="include posts whose status is draft")
    parser.add_argument("--no-cache", action="store_true", help="typeset every formula afresh")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    result = build_site(args.site_dir, out_dir=args.out, base_url=args.base_url,
                        drafts=args.drafts, use_cache=not args.no_cache)
    try:
        shown = result.out_dir.relative_to(Path.cwd())
    except ValueError:
        shown = result.out_dir
    stdout.print(
        f"Built {result.pages} pages ({result.files} files) into {shown}/ in {result.seconds:.2f} s"
        f" · {result.formulas_typeset} formulas typeset, {result.formulas_cached} from cache",
        highlight=False,
    )
    return 0
