"""A small HTTP service guarded by Tessera, in Python (examples/python-guard).

    PORT=4103 TESSERA_AUTH_URL=http://127.0.0.1:4000 TESSERA_REDIS_URL=redis://127.0.0.1:6379 \
        /usr/bin/python3 examples/python-guard/service.py

GET /whoami -> 200 {userId, sessionId, roles} for a valid session, else 401 problem+json;
GET /admin -> 403 insufficient_role without the role "admin"; GET /healthz -> 200.
"""

import json
import logging
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tessera_guard import Refusal, TesseraGuard, parse_duration_ms

TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 503: "Service Unavailable"}


def make_handler(guard):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args):  # no access log (it would hold nothing useful here)
            pass

        def _send(self, status, body, content_type="application/json", headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _problem(self, status, code, detail):
            headers = []
            if status == 401:
                headers.append(("www-authenticate", 'Bearer error="invalid_token"'))
            if status == 503:
                headers.append(("retry-after", "1"))
            body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status,
                    "detail": detail, "code": code}
            self._send(status, body, "application/problem+json", headers)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self.path == "/healthz":
                return self._send(200, {"status": "ok"})
            if self.path not in ("/whoami", "/admin"):
                return self._problem(404, "not_found", "no such route")
            try:
                principal = guard.authenticate(self.headers.get("authorization"))
            except Refusal as refusal:
                return self._problem(refusal.status, refusal.code, refusal.detail)
            if self.path == "/admin" and "admin" not in principal["roles"]:
                return self._problem(403, "insufficient_role", "this route needs the role admin")
            return self._send(200, principal)

    return Handler


def main():
    logging.basicConfig(level=logging.WARNING, format="python-guard: %(message)s")
    try:
        auth_url = os.environ["TESSERA_AUTH_URL"]
        redis_url = os.environ["TESSERA_REDIS_URL"]
        port = int(os.environ.get("PORT", "4103"))
        guard = TesseraGuard(
            auth_url,
            redis_url,
            audience=os.environ.get("TESSERA_AUDIENCE") or "tessera",
            issuer=os.environ.get("TESSERA_ISSUER") or None,
            access_ttl_ms=parse_duration_ms(os.environ.get("TESSERA_ACCESS_TTL") or "10m", "TESSERA_ACCESS_TTL"),
            max_lag_ms=parse_duration_ms(os.environ.get("TESSERA_FEED_MAX_LAG") or "2s", "TESSERA_FEED_MAX_LAG"),
        )
    except (KeyError, ValueError) as error:
        print(f"python-guard: bad configuration: {error}", file=sys.stderr)
        sys.exit(1)
    guard.start()
    server = ThreadingHTTPServer((os.environ.get("HOST") or "127.0.0.1", port), make_handler(guard))
    server.daemon_threads = True
    def stop(*_):
        guard.stop()
        threading.Thread(target=server.shutdown).start()  # shutdown() waits for serve_forever

    signal.signal(signal.SIGTERM, stop)
    print(f"python guard listening on http://{server.server_address[0]}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
