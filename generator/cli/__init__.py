"""The ``labpress`` command: parses arguments, runs a verb, turns errors into exit codes.

Exit 0 on success, 1 on content errors (each printed as path:line:col: error:
message), 2 on usage or configuration errors. No traceback reaches an author.
"""

from __future__ import annotations

import argparse
import functools
import sys

from rich.console import Console

from labpress import __version__
from labpress.cli import build, check, init, new, serve
from labpress.errors import ConfigError, ContentErrors


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labpress", description="Lab-notebook posts from Markdown to a static site.")
    parser.add_argument("--version", action="version", version=f"labpress {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    # Every verb takes --quiet and --verbose, after its name like its other options.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    common.add_argument("-v", "--verbose", action="store_true",
                        help="say more as it goes; show a traceback if LabPress itself fails")
    subparsers.add_parser = functools.partial(subparsers.add_parser, parents=[common])
    build.add_parser(subparsers)
    check.add_parser(subparsers)
    init.add_parser(subparsers)
    new.add_parser(subparsers)
    serve.add_parser(subparsers)
    return parser


def _template_error() -> type[Exception]:
    """Jinja2's error class when a template was loaded (so jinja2 is not imported just to be caught)."""
    jinja2 = sys.modules.get("jinja2")
    return jinja2.TemplateError if jinja2 else _NeverRaised


class _NeverRaised(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    stdout = Console(highlight=False, soft_wrap=True)
    stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    args = make_parser().parse_args(argv)
    try:
        return args.run(args, stdout, stderr)
    except ContentErrors as exc:
        for error in exc.errors:
            stderr.print(str(error), markup=False)
        count = len(exc.errors)
        stderr.print(f"build failed: {count} error{'s' if count != 1 else ''}; the previous output is unchanged", markup=False)
        return 1
    except _template_error() as exc:
        where = f"{getattr(exc, 'filename', None) or getattr(exc, 'name', None) or 'template'}"
        line = getattr(exc, "lineno", None)
        stderr.print(f"{where}:{line or 1}:1: error: theme template: {exc.message or exc}", markup=False)
        return 1
    except ConfigError as exc:
        stderr.print(str(exc), markup=False)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug in LabPress, not the author's mistake
        if args.verbose:
            stderr.print_exception()
        stderr.print(f"labpress: internal error: {type(exc).__name__}: {exc}. This is a bug in LabPress, not in"
                     " your site; run again with --verbose for the traceback and report it.", markup=False)
        return 3


if __name__ == "__main__":
    sys.exit(main())
