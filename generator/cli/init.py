"""``labpress init [DIR]``: start a notebook that builds at once, without overwriting anything."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from rich.console import Console


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "init", help="start a new notebook in a folder",
        description="Write a working notebook into DIR: labpress.toml, an example post with its widget and data,"
                    " static/, a .gitignore and a GitHub Pages workflow. Nothing is overwritten: if any of these"
                    " files is already there, nothing is written.")
    parser.add_argument("site_dir", nargs="?", default=Path("."), type=Path, metavar="DIR",
                        help="the folder to write into, made if need be (default: .)")
    parser.add_argument("--title", help='the notebook\'s title (default: "My lab notebook"); edit it later in labpress.toml')
    parser.add_argument("--base-url", metavar="URL",
                        help="the address the notebook will be published at, such as https://you.github.io/my-notebook/"
                             " (the Pages workflow passes GitHub's own; this is for builds you publish yourself)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from labpress.starter.notebook import write_notebook  # here: the other verbs start without it

    written = write_notebook(args.site_dir, args.title, args.base_url)
    if args.quiet:
        return 0
    stdout.print(f"Wrote a new notebook in {args.site_dir}:", markup=False)
    for name in written:
        stdout.print(f"  {name}", markup=False)
    site = "" if args.site_dir == Path(".") else " " + shlex.quote(str(args.site_dir))
    out = (args.site_dir / "build").as_posix()
    stdout.print(f"\nNext:\n  labpress serve{site}   to preview it; pages reload as you edit\n"
                 f"  labpress build{site}   to build the site into {out}/\n"
                 "To publish it, push the folder to a GitHub repository and set Settings → Pages → Source to"
                 " GitHub Actions: the workflow it holds checks, builds and deploys it.", markup=False)
    if args.base_url is None:
        stdout.print("labpress.toml sets no base_url yet, so builds warn that the feed and the sitemap say"
                     " http://localhost/: set it once you know where the notebook will live (the Pages"
                     " workflow passes GitHub's address itself).", markup=False)
    return 0
