"""The development server behind ``labpress serve``.

``state``   the last build's outcome, shared between the builder and open pages;
``server``  the HTTP server: the dev build, the reload client, server-sent events;
``watcher`` watchfiles on content/, widgets/, themes/, static/, data/ and labpress.toml;
``session`` wires them: build, serve, rebuild on change, stop on Ctrl-C;
``reload.js`` the browser side: reloads the page after a build, shows build errors.

Nothing here is written into the build output: the reload client is served and
injected into HTML responses by the server only.
"""

from labpress.devserver.session import DevSession

__all__ = ["DevSession"]
