"""``serve``: the one way a service's app goes on uvicorn (foreground, or a thread beside other work)."""

from __future__ import annotations

import threading
import time

START_TIMEOUT_S = 30.0


class ServeError(RuntimeError):
    """The app could not be served: uvicorn missing, or the address not available; one line."""


def _uvicorn():
    try:
        import uvicorn
    except ImportError:
        raise ServeError("needs uvicorn: pip install -e '.[services]'") from None
    return uvicorn


def serve(app, host: str, port: int, background: bool = False):
    """Serve ``app`` on host:port. Foreground: returns when the server stops. Background: returns the
    running ``uvicorn.Server`` once it listens (set ``server.should_exit`` to stop it)."""
    uvicorn = _uvicorn()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=int(port), log_level="warning"))
    if not background:
        server.run()
        return server

    def run() -> None:
        try:
            server.run()
        except SystemExit:  # uvicorn exits on a bind error (after logging it); serve() reports it below
            pass

    thread = threading.Thread(target=run, name=f"{app.title.removeprefix('aivj ')}-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:  # uvicorn logs the bind error and exits its thread
        server.should_exit = True
        raise ServeError(f"could not serve on {host}:{port} (address in use or not available)")
    return server
