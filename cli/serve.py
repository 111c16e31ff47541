"""`funnel serve SPEC --state STORE`: the HTTP server over the run engine (docs/serve.md)."""
from __future__ import annotations

import ipaddress
import logging
import socket

import click

from . import main
from .common import fail
from .run import actions_option, migrate_option, parse_migrations

LOOPBACK = ("localhost",)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in LOOPBACK


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--state", "state", required=True, metavar="STORE",
              help="The store: a SQLite file, or a postgresql:// URL (the one `funnel run` uses).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs a token.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", envvar="FUNNEL_TOKEN", show_envvar=True, metavar="TOKEN",
              help="Bearer token every route but /hooks/* asks for (better: the FUNNEL_TOKEN variable, "
                   "which stays out of the process list).")
@click.option("--mapping", type=click.Path(dir_okay=False, exists=True),
              help="The CRM mapping (TOML); default: [tool.funnel.crm] in the nearest pyproject.toml above SPEC.")
@click.option("--moves", type=click.Choice(("record", "enforce")), default="record", show_default=True,
              help="A person's move the spec does not allow: applied and reported as a violation (the CRM "
                   "already made it), or rejected.")
@actions_option
@migrate_option
@click.option("--max-body", default=1 << 20, show_default=True, type=click.IntRange(1024), metavar="BYTES",
              help="Largest request body; bigger ones get 413.")
@click.option("--quiet", is_flag=True, help="No access log on stderr.")
def serve(spec: str, state: str, host: str, port: int, token: str | None, mapping: str | None, moves: str,
          sink: str | None, migrations: tuple[str, ...], max_body: int, quiet: bool) -> None:
    """Serve SPEC over HTTP: deal events and CRM webhooks in, deals and the live funnel out.

    POST /events takes canonical events (`funnel schema events`); POST /hooks/amocrm, /hooks/hubspot,
    /hooks/pipedrive and /hooks/bitrix24 take each CRM's webhooks; GET /deals/ID, /funnel, /health
    and /openapi.json read. A 202 is sent only once the events are committed to STORE. Due timers fire
    on the wall clock, those that came due while the server was down at once. SIGTERM or Ctrl-C
    finishes the requests in flight and exits 0.
    """
    try:
        import uvicorn

        from ..serve.app import AccessLog, build_app
        from ..serve.service import ServeError, open_service
    except ImportError as err:
        fail(f"`funnel serve` needs the `serve` extra (pip install 'funnelspec[serve]'): {err}")
    if not token and not _is_loopback(host):
        fail(f"serving on {host} needs a token: --token or the FUNNEL_TOKEN environment variable")
    listening = _listen(host, port)
    try:
        service = open_service(spec, state, mapping=mapping, token=token or None, moves=moves, sink=sink,
                               migrate=parse_migrations(migrations), max_body=max_body)
    except ServeError as err:
        fail(str(err))
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(asctime)s %(message)s")
    log = logging.getLogger("funnelspec.serve")
    if not token:
        log.warning("no token: every route is open to this machine's users")
    bound = listening.getsockname()
    log.info("serving %s on http://%s:%d", spec, f"[{bound[0]}]" if ":" in bound[0] else bound[0], bound[1])
    app = build_app(service)
    config = uvicorn.Config(app if quiet else AccessLog(app), access_log=False, log_level="warning", http=_http(),
                            lifespan="on", server_header=False)
    try:
        _server_class()(config).run(sockets=[listening])
    finally:
        service.close()


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a port in use is a clear error (exit 2), not uvicorn's."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
        listening = socket.socket(family, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(infos[0][4])
    except OSError as err:
        fail(f"cannot listen on {host}:{port}: {err.strerror or err}")
    return listening


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but SIGTERM and Ctrl-C end it with exit 0 once the requests in flight are answered.

        (uvicorn raises the signal again after its graceful shutdown, so the process would die of it.)"""

        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    return Server


def _http() -> str:
    try:
        import httptools  # noqa: F401  (the faster parser, when installed)
        return "httptools"
    except ImportError:
        return "h11"
