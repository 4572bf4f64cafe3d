"""``labpress build``: the site directory in, a static site out."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console



def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("build", help="build the static site", description="Build the static site.")
    parser.add_argument("site_dir", nargs="?", default=".", type=Path, metavar="SITE_DIR",
                        help="folder holding labpress.toml (default: the current folder)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: SITE_DIR/build)")
    parser.add_argument("--base-url", metavar="URL",
                        help="URL or path the site is served under, such as https://user.github.io/notebook/")
    parser.add_argument("--drafts", action="store_true", help="include posts whose status is draft")
    parser.add_argument("--no-cache", action="store_true", help="render every post, formula and figure afresh")
    parser.add_argument("-j", "--jobs", type=_positive, metavar="N",
                        help="processes rendering posts (default: every core when many posts need rendering)")
    parser.add_argument("--no-wait", action="store_true",
                        help="when another build of this site is running, stop at once (exit 2) instead of waiting")
    parser.set_defaults(run=run)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not '{text}'")
    return value


def run(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    # Imported here: `labpress --help` and the other verbs start without them.
    from labpress.site.pipeline import build_site

    options = dict(out_dir=args.out, base_url=args.base_url, drafts=args.drafts, use_cache=not args.no_cache,
                   jobs=args.jobs, notify=lambda message: stderr.print(message, markup=False))
    if args.no_wait:
        options["wait"] = 0
    if args.quiet:
        result = build_site(args.site_dir, **options)
    elif stdout.is_terminal:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        # A live bar on a terminal; it disappears when the build ends.
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=stdout, transient=True) as bar:
            task = bar.add_task("Rendering posts", total=None)

            def progress(done: int, total: int, path: str) -> None:
                bar.update(task, completed=done, total=total, description=f"Rendering {path}" if args.verbose else "Rendering posts")

            result = build_site(args.site_dir, progress=progress, **options)
    else:
        # Plain lines for CI logs: one per post with --verbose, none otherwise.
        def progress(done: int, total: int, path: str) -> None:
            if args.verbose:
                stdout.print(f"[{done}/{total}] {path}", markup=False)

        result = build_site(args.site_dir, progress=progress, **options)
    if args.quiet:
        return 0
    try:
        shown = result.out_dir.relative_to(Path.cwd())
    except ValueError:
        shown = result.out_dir
    stdout.print(
        f"Built {result.pages} pages ({result.files} files) into {shown}/ in {result.seconds:.2f} s"
        f" · rendered {len(result.rendered_posts)} posts and {len(result.rendered_pages)} pages, reused the rest"
        f" · {result.formulas_typeset} formulas typeset, {result.formulas_cached} from cache",
        highlight=False,
    )
    return 0
