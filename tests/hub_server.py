"""A small Hugging Face Hub on loopback: the model-info API and `resolve` downloads with ranges.

It speaks the HTTP the real client (huggingface-hub) uses, so `ieclid models pull` is tested
through real requests, with no stand-in for the client.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def tiny_gguf(name: str = "tiny-adelie", file_type: int = 15) -> bytes:
    """A GGUF header (v3) with a few metadata keys and one 8x4 tensor: enough to inspect."""

    def string(s: str) -> bytes:
        data = s.encode()
        return struct.pack("<Q", len(data)) + data

    kvs = [
        (b"general.architecture", 8, string("llama")),
        (b"general.name", 8, string(name)),
        (b"general.file_type", 4, struct.pack("<I", file_type)),
        (b"llama.context_length", 4, struct.pack("<I", 2048)),
        (b"tokenizer.chat_template", 8, string("{{ messages }}")),
    ]
    out = b"GGUF" + struct.pack("<IQQ", 3, 1, len(kvs))
    for key, kind, value in kvs:
        out += struct.pack("<Q", len(key)) + key + struct.pack("<I", kind) + value
    out += string("token_embd.weight") + struct.pack("<I", 2) + struct.pack("<QQ", 8, 4)
    out += struct.pack("<IQ", 0, 0)
    return out + b"\0" * (32 * 4)


class Hub:
    """Repositories as {repo: {file: bytes}}; `bad_checksum` files advertise a wrong sha256;
    `cut_first` files break off halfway the first time they are downloaded."""

    def __init__(self, repos: dict[str, dict[str, bytes]]) -> None:
        self.repos = repos
        self.bad_checksum: set[str] = set()
        self.cut_first: set[str] = set()
        self.ranges: list[str] = []
        self._cut_done: set[str] = set()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                hub.handle(self, body=True)

            def do_HEAD(self) -> None:
                hub.handle(self, body=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sha256(self, file: str, data: bytes) -> str:
        return "0" * 64 if file in self.bad_checksum else hashlib.sha256(data).hexdigest()

    def handle(self, request: BaseHTTPRequestHandler, body: bool) -> None:
        path = request.path.split("?")[0]
        info = re.match(r"^/api/models/([^/]+/[^/]+)(?:/revision/[^/]+)?$", path)
        if info and info.group(1) in self.repos:
            files = self.repos[info.group(1)]
            payload = {
                "id": info.group(1), "sha": COMMIT,
                "siblings": [
                    {"rfilename": f, "size": len(d), "lfs": {"sha256": self.sha256(f, d), "size": len(d), "pointerSize": 130}}
                    for f, d in files.items()
                ],
            }
            return self._send(request, 200, json.dumps(payload).encode(), {"Content-Type": "application/json"}, body)
        resolve = re.match(r"^/([^/]+/[^/]+)/resolve/[^/]+/(.+)$", path)
        if resolve and resolve.group(2) in self.repos.get(resolve.group(1), {}):
            file = resolve.group(2)
            data = self.repos[resolve.group(1)][file]
            headers = {
                "X-Repo-Commit": COMMIT, "ETag": f'"{self.sha256(file, data)}"',
                "X-Linked-Etag": f'"{self.sha256(file, data)}"', "X-Linked-Size": str(len(data)),
                "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream",
            }
            start = 0
            wanted = request.headers.get("Range")
            if wanted and body:
                self.ranges.append(wanted)
                start = int(re.match(r"bytes=(\d+)-", wanted).group(1))
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            if body and file in self.cut_first and file not in self._cut_done:
                self._cut_done.add(file)
                request.send_response(200)
                for key, value in {**headers, "Content-Length": str(len(data))}.items():
                    request.send_header(key, value)
                request.end_headers()
                request.wfile.write(data[: len(data) // 2])
                request.wfile.flush()
                request.close_connection = True
                return None
            return self._send(request, 206 if wanted and body else 200, data[start:], headers, body)
        return self._send(request, 404, b'{"error": "Repository not found"}', {"X-Error-Code": "RepoNotFound"}, body)

    @staticmethod
    def _send(request, status: int, data: bytes, headers: dict, body: bool) -> None:
        request.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(data))}.items():
            request.send_header(key, value)
        request.end_headers()
        if body:
            request.wfile.write(data)
