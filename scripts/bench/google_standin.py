"""A stand-in for the metadata server and IAM Credentials `signBlob` with a fixed added
latency, for benchmarking `--signer iam` (standard library only). It answers the documented
shapes; signatures are random bytes, since nothing in the benchmark verifies them (the tests'
stand-in, tests/it/google_standin.rs, signs for real)."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EMAIL = "bench-runtime@demo-bench.iam.gserviceaccount.com"


class StandIn:
    def __init__(self, latency_ms: float, project: str):
        latency = latency_ms / 1000
        self.sign_calls = 0
        self.metadata_calls = 0
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Google's front ends
            # Headers and body go out as separate writes: with Nagle's algorithm the body
            # would wait for the client's delayed ACK (40 ms), which Google does not add.
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:  # quiet
                pass

            def answer(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except BrokenPipeError:  # a server stopped mid-call (cold runs)
                    pass

            def do_GET(self) -> None:  # noqa: N802
                standin.metadata_calls += 1
                if self.headers.get("Metadata-Flavor") != "Google":
                    return self.answer(403, b"missing Metadata-Flavor", "text/plain")
                path = self.path.split("?")[0]
                if path.endswith("/service-accounts/default/email"):
                    return self.answer(200, EMAIL.encode(), "text/plain")
                if path.endswith("/project/project-id"):
                    return self.answer(200, project.encode(), "text/plain")
                if path.endswith("/service-accounts/default/token"):
                    body = {"access_token": "bench-token", "expires_in": 3600,
                            "token_type": "Bearer"}
                    return self.answer(200, json.dumps(body).encode())
                self.answer(404, b"{}")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                standin.sign_calls += 1
                time.sleep(latency)
                signature = base64.b64encode(os.urandom(256)).decode()
                self.answer(200, json.dumps({"keyId": "bench-key", "signedBlob": signature}).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def env(self, home: str) -> dict[str, str]:
        return {"FIREGATE_SIGNER": "iam", "GCE_METADATA_HOST": self.host,
                "FIREGATE_IAM_CREDENTIALS_URL": f"http://{self.host}", "HOME": home}

    def stop(self) -> None:
        self.server.shutdown()
