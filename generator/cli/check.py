"""``labpress check``: everything a build validates, and the built links, without writing output.

Meant for a CI gate or a pre-commit hook: it reports every problem at once and
exits 1 if there is any. With ``--provenance BUILD_DIR`` it checks instead that the files
each page of a built folder records in its provenance.json are as they were
(provenance/verify.py), and builds nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("check", help="validate the site without writing output",
                                   description="Validate posts, maths, widgets, links and images; write nothing.")
    parser.add_argument("site_dir", nargs="?", default=".", type=Path, metavar="SITE_DIR")
    parser.add_argument("--drafts", action=argparse.BooleanOptionalAction, default=True,
                        help="check drafts too (the default: they are what you are writing); --no-drafts checks"
                             " only what `labpress build` publishes")
    parser.add_argument("--provenance", type=Path, metavar="BUILD_DIR",
                        help="instead, check that the files each page of the built folder BUILD_DIR records in"
                             " its provenance.json are still as they were (digests against SITE_DIR)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    if args.provenance is not None:
        return _run_provenance(args, stdout, stderr)
    from labpress.check.site import check_site  # here: `labpress --help` starts without the build

    result = check_site(args.site_dir.resolve(), args.drafts,
                        notify=lambda message: stderr.print(message, markup=False))
    for error in result.errors:
        stderr.print(str(error), markup=False)
    count = len(result.errors)
    if result.errors:
        stderr.print(f"check failed: {count} problem{'s' if count != 1 else ''} ({_drafts(result)})", markup=False)
        return 1
    stdout.print(f"No problems found ({result.pages} pages checked, {_drafts(result)})", markup=False)
    return 0


def _drafts(result) -> str:
    """What became of the drafts: '2 drafts checked', 'no drafts', '1 draft left out'."""
    if not result.drafts:
        return "no drafts"
    return f"{result.drafts} draft{'s' if result.drafts != 1 else ''} {'checked' if result.drafts_checked else 'left out'}"


def _run_provenance(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    from labpress.provenance.verify import ProvenanceError, verify_build

    try:
        result = verify_build(args.provenance, args.site_dir.resolve())
    except ProvenanceError as exc:
        stderr.print(str(exc), markup=False)
        return 1
    for mismatch in result.mismatches:
        stderr.print(str(mismatch), markup=False)
    pages = len(result.pages)
    if result.mismatches:
        count = len(result.mismatches)
        stderr.print(f"provenance check failed: {count} file{'s' if count != 1 else ''} no longer as recorded,"
                     f" on {pages} page{'s' if pages != 1 else ''}", markup=False)
        return 1
    stdout.print(f"Provenance holds: {result.files} recorded file{'s' if result.files != 1 else ''} of"
                 f" {result.records} page{'s' if result.records != 1 else ''} unchanged", markup=False)
    return 0
