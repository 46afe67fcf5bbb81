"""A real HTTP server on the loopback address for download tests: serves files from a dict,
honours `Range: bytes=N-` (206), answers 404 for anything else, and can drop the connection
half way through a file once (a data host hanging up)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


class DataHost:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = dict(files)  # URL path ("/a/b.hdf5") -> bytes
        self.drop_once: dict[str, int] = {}  # path -> bytes to send before hanging up, once
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.raw: list[str] = []  # request paths as sent (percent-encoded)
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                host.raw.append(self.path)
                path = unquote(self.path)
                host.requests.append((path, self.headers.get("Range")))
                body = host.files.get(path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                start = 0
                if (rng := self.headers.get("Range", "")).startswith("bytes="):
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    if start >= len(body):
                        self.send_error(416, "Range Not Satisfiable")
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                cut = host.drop_once.pop(path, None)
                if cut is not None:
                    self.wfile.write(body[start:start + cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> DataHost:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
