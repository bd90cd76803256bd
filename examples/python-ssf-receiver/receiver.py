#!/usr/bin/python3
"""A Python service that learns of ended Tessera sessions by the open standard.

On start it reads Tessera's SSF transmitter metadata, registers a push stream for CAEP
session-revoked events, and then:

  POST /ssf/events   receives SETs (RFC 8935): verifies each against Tessera's JWKS
                     (algorithm allow-list, typ secevent+jwt, iss, aud, iat, jti once) and
                     remembers the sessions they name; answers 202, or 400 with RFC 8935
                     error JSON.
  GET  /whoami       verifies a Tessera access token (Authorization: Bearer) against the same
                     JWKS and refuses it (401 session_revoked) when its session was named in
                     a SET.

Only the Python standard library and Debian's python3-jwcrypto.

Environment: TESSERA_AUTH_URL (Tessera's base URL), TESSERA_ADMIN_TOKEN (to register the
stream), PORT (default 5050), HOST (default 127.0.0.1), PUBLIC_URL (where Tessera reaches this
service; default http://HOST:PORT), TESSERA_AUDIENCE (access-token aud, default tessera).
"""

import json
import os
import signal
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jwcrypto import jwk, jws, jwt

SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
PUSH = "urn:ietf:rfc:8935"
ALGS = ["EdDSA", "ES256", "RS256"]
MAX_AGE_S = 3600
LEEWAY_S = 30


def http_json(method, url, body=None, token=None):
    headers = {"accept": "application/json"}
    if body is not None:
        headers["content-type"] = "application/json"
    if token:
        headers["authorization"] = "Bearer " + token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read().decode()
        return json.loads(text) if text else None


class Keys:
    """Tessera's JWKS, fetched again (at most every 5 s) when a kid is unknown."""

    def __init__(self, uri):
        self.uri = uri
        self.lock = threading.Lock()
        self.fetched = 0.0
        self.set = jwk.JWKSet()
        self.refresh(force=True)

    def refresh(self, force=False):
        with self.lock:
            if not force and time.time() - self.fetched < 5:
                return
            with urllib.request.urlopen(self.uri, timeout=5) as response:
                self.set = jwk.JWKSet.from_json(response.read().decode())
            self.fetched = time.time()

    def verify(self, token, check_claims):
        for attempt in (0, 1):
            try:
                return jwt.JWT(jwt=token, key=self.set, algs=ALGS, check_claims=check_claims)
            except jwt.JWTMissingKey:
                if attempt == 1:
                    raise
                self.refresh()
        raise AssertionError("unreachable")


class State:
    def __init__(self, issuer, aud, keys, audience):
        self.issuer = issuer
        self.aud = aud
        self.keys = keys
        self.audience = audience
        self.refused = set()  # session ids named by session-revoked SETs
        self.seen = {}  # jti -> time first seen
        self.lock = threading.Lock()

    def receive(self, token):
        """Returns None when accepted, else (err, description) per RFC 8935."""
        try:
            verified = self.keys.verify(token, {"iss": self.issuer, "aud": self.aud, "iat": None, "jti": None})
        except (jwt.JWTMissingKey, jws.InvalidJWSSignature):
            return ("invalid_key", "the SET does not verify with the transmitter's keys")
        except jwt.JWTInvalidClaimValue as error:
            if "aud" in str(error):
                return ("invalid_audience", "aud is not this receiver")
            return ("invalid_issuer", "iss is not the transmitter")
        except Exception:  # malformed header, payload or claims
            return ("invalid_request", "not a valid SET")
        header = verified.token.jose_header
        if header.get("typ") != "secevent+jwt":
            return ("invalid_request", "typ must be secevent+jwt")
        claims = json.loads(verified.claims)
        now = time.time()
        if not isinstance(claims.get("iat"), int) or not now - MAX_AGE_S <= claims["iat"] <= now + LEEWAY_S:
            return ("invalid_request", "iat is outside the accepted window")
        events = claims.get("events")
        if not isinstance(events, dict):
            return ("invalid_request", "events must be an object")
        with self.lock:
            for jti, at in list(self.seen.items()):
                if at < now - MAX_AGE_S - LEEWAY_S:
                    del self.seen[jti]
            if claims["jti"] in self.seen:
                return ("invalid_request", "this jti was received before")
            self.seen[claims["jti"]] = now
            if SESSION_REVOKED in events:
                session = (claims.get("sub_id") or {}).get("session") or {}
                if session.get("format") == "opaque" and isinstance(session.get("id"), str):
                    self.refused.add(session["id"])
                    print("refusing session " + session["id"], flush=True)
        return None

    def whoami(self, authorization):
        if not authorization.startswith("Bearer "):
            return 401, {"code": "invalid_token"}
        try:
            verified = self.keys.verify(
                authorization[7:].strip(),
                {"iss": self.issuer, "aud": self.audience, "exp": None, "sid": None, "sub": None},
            )
        except Exception:
            return 401, {"code": "invalid_token"}
        if verified.token.jose_header.get("typ") != "at+jwt":
            return 401, {"code": "invalid_token"}
        claims = json.loads(verified.claims)
        with self.lock:
            if claims["sid"] in self.refused:
                return 401, {"code": "session_revoked"}
        return 200, {"userId": claims["sub"], "sessionId": claims["sid"]}


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        def send(self, status, body=None):
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if body is not None:
                self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            if self.path != "/ssf/events":
                return self.send(404, {"code": "not_found"})
            length = int(self.headers.get("content-length") or 0)
            if length <= 0 or length > 16384:
                return self.send(400, {"err": "invalid_request", "description": "no SET in the body"})
            body = self.rfile.read(length).decode("utf-8", "replace").strip()
            if self.headers.get("content-type", "").split(";")[0].strip() != "application/secevent+jwt":
                return self.send(400, {"err": "invalid_request", "description": "send application/secevent+jwt"})
            refused = state.receive(body)
            if refused:
                return self.send(400, {"err": refused[0], "description": refused[1]})
            return self.send(202)

        def do_GET(self):
            if self.path != "/whoami":
                return self.send(404, {"code": "not_found"})
            status, body = state.whoami(self.headers.get("authorization", ""))
            return self.send(status, body)

        def log_message(self, *args):
            pass

    return Handler


def main():
    auth = os.environ["TESSERA_AUTH_URL"].rstrip("/")
    admin = os.environ["TESSERA_ADMIN_TOKEN"]
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5050"))
    public = os.environ.get("PUBLIC_URL", "http://%s:%d" % (host, port)).rstrip("/")
    server = ThreadingHTTPServer((host, port), None)
    metadata = http_json("GET", auth + "/.well-known/ssf-configuration")
    if PUSH not in metadata["delivery_methods_supported"]:
        sys.exit("the transmitter does not push (RFC 8935)")
    keys = Keys(metadata["jwks_uri"])
    stream = http_json(
        "POST",
        metadata["configuration_endpoint"],
        {"delivery": {"method": PUSH, "endpoint_url": public + "/ssf/events"}, "events_requested": [SESSION_REVOKED]},
        admin,
    )
    state = State(metadata["issuer"], stream["aud"], keys, os.environ.get("TESSERA_AUDIENCE", "tessera"))
    server.RequestHandlerClass = make_handler(state)

    def stop(*_):
        try:  # the stream is this process's: remove it with its queue
            http_json("DELETE", metadata["configuration_endpoint"] + "?stream_id=" + stream["stream_id"], None, admin)
        except Exception:
            pass
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("stream %s registered" % stream["stream_id"], flush=True)
    print("listening on http://%s:%d" % (host, port), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
