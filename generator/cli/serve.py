"""``labpress serve``: build into a dev folder, serve it, rebuild and reload pages on every change."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console



def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port '{text}': give a number from 0 to 65535") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: give a number from 0 to 65535")
    return port


def loopback_host(text: str) -> str:
    """The address to listen on: this machine only (a preview is not a web server for others)."""
    import ipaddress

    if text.lower() == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise argparse.ArgumentTypeError(
            f"'{text[:80]}' is not a loopback address: the dev server listens on this machine only (127.0.0.1, ::1"
            " or localhost); to publish a site, build it and serve build/ with a web server")
    return str(address)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve the site locally, rebuilding and reloading pages on every change",
        description="Build the site, serve it on this machine and rebuild on every change to content/, widgets/, "
                    "themes/, static/, data/ or labpress.toml; open pages reload by themselves and show build errors.")
    parser.add_argument("site_dir", nargs="?", default=".", type=Path, metavar="SITE_DIR",
                        help="folder holding labpress.toml (default: the current folder)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="dev output folder (default: SITE_DIR/build)")
    parser.add_argument("--port", type=port_number, default=8000, metavar="N",
                        help="port to listen on (default: 8000; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", metavar="HOST", type=loopback_host,
                        help="loopback address to listen on (default: 127.0.0.1; ::1 and localhost also work)")
    parser.add_argument("--drafts", action="store_true", help="include posts whose status is draft")
    parser.add_argument("--no-cache", action="store_true", help="typeset every formula afresh")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, stdout: Console, stderr: Console) -> int:
    # Imported here: `labpress --help` and the other verbs start without them.
    from labpress.devserver import DevSession

    session = DevSession(args.site_dir, args.out, host=args.host, port=args.port, drafts=args.drafts,
                         use_cache=not args.no_cache, stdout=stdout, stderr=stderr,
                         quiet=getattr(args, "quiet", False), verbose=getattr(args, "verbose", False))
    return session.run()
