"""A stand-in for the Hugging Face Hub on the loopback address, serving Minari datasets the
way Farama's `farama-minari` organisation lays them out (one dataset repo per namespace root,
namespace metadata files, each dataset's folder), with just the endpoints minari's download
uses: the dataset listing, repo info, and file resolution (HEAD for metadata, GET with
ranges). Its HTTP layer is `tests.http_server.DataHost`'s."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class MinariHub:
    def __init__(self, org: str = "farama-minari") -> None:
        self.org = org
        self.repos: dict[str, dict[str, bytes]] = {}  # repo name -> {path in repo: bytes}
        self.drop_once: dict[str, int] = {}  # path in repo -> bytes to send, then hang up
        self.requests: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self) -> None:  # noqa: N802
                self._serve(head=True)

            def do_GET(self) -> None:  # noqa: N802
                self._serve(head=False)

            def _json(self, payload: object) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _missing(self, code: str) -> None:
                self.send_response(404)
                self.send_header("X-Error-Code", code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _serve(self, head: bool) -> None:
                url = urlparse(self.path)
                path = unquote(url.path)
                hub.requests.append(f"{self.command} {path}"
                                    + (f" {self.headers['Range']}" if "Range" in self.headers
                                       else ""))
                if path == "/api/datasets":
                    query = parse_qs(url.query)
                    name = (query.get("dataset_name") or query.get("search") or [""])[0]
                    return self._json([{"id": f"{hub.org}/{repo}"} for repo in hub.repos
                                       if repo.startswith(name)])
                prefix = f"/api/datasets/{hub.org}/"
                if path.startswith(prefix) and "/tree/" in path:  # the repo's files, recursive
                    repo = path[len(prefix):].split("/tree/")[0]
                    if repo not in hub.repos:
                        return self._missing("RepoNotFound")
                    return self._json([{"type": "file", "path": f, "size": len(body),
                                        "oid": hashlib.sha1(body).hexdigest()}
                                       for f, body in hub.repos[repo].items()])
                if path.startswith(prefix) and "/revision/" in path:
                    repo = path[len(prefix):].split("/revision/")[0]
                    if repo not in hub.repos:
                        return self._missing("RepoNotFound")
                    return self._json({"id": f"{hub.org}/{repo}", "sha": COMMIT,
                                       "siblings": [{"rfilename": f} for f in hub.repos[repo]]})
                prefix = f"/datasets/{hub.org}/"
                if path.startswith(prefix) and "/resolve/" in path:
                    repo, rest = path[len(prefix):].split("/resolve/", 1)
                    filename = rest.split("/", 1)[1]
                    body = hub.repos.get(repo, {}).get(filename)
                    if body is None:
                        return self._missing("EntryNotFound")
                    start = 0
                    if (rng := self.headers.get("Range", "")).startswith("bytes="):
                        start = int(rng.removeprefix("bytes=").split("-")[0])
                    self.send_response(206 if start else 200)
                    if start:
                        self.send_header("Content-Range",
                                         f"bytes {start}-{len(body) - 1}/{len(body)}")
                    self.send_header("X-Repo-Commit", COMMIT)
                    self.send_header("ETag", f'"{hashlib.sha1(body).hexdigest()}"')
                    self.send_header("Content-Length", str(len(body) - start))
                    self.end_headers()
                    if head:
                        return None
                    cut = hub.drop_once.pop(filename, None)
                    if cut is not None:
                        self.wfile.write(body[start:start + cut])
                        self.wfile.flush()
                        self.close_connection = True
                        return None
                    self.wfile.write(body[start:])
                    return None
                return self._missing("RepoNotFound")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add_dataset(self, dataset_id: str, folder: Path) -> None:
        """Serve a local Minari dataset folder as `dataset_id`, with its namespaces' metadata."""
        root, *rest = dataset_id.split("/")
        files = self.repos.setdefault(root, {})
        in_repo = "/".join(rest)
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                files[f"{in_repo}/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
        namespaces = ["/".join(rest[:i]) for i in range(len(rest))]  # "", "hopper", ...
        for ns in namespaces:
            name = f"{ns}/namespace_metadata.json" if ns else "namespace_metadata.json"
            meta = json.loads(files.get(name, b"{}"))
            if not ns:  # the repo's root lists its datasets and its sub-namespaces
                for key, value in (("datasets", dataset_id),
                                   *(("namespaces", f"{root}/{sub}") for sub in namespaces[1:])):
                    meta.setdefault(key, [])
                    if value not in meta[key]:
                        meta[key].append(value)
            files[name] = json.dumps(meta).encode()

    def __enter__(self) -> MinariHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
