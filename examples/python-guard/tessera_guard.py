"""A Tessera guard in Python, written from docs/redis-layout.md and the contract alone.

Verifies Tessera access tokens (JWS, typ at+jwt) against the auth service's JWKS and refuses
revoked sessions by following the revocation stream in Redis. Only the standard library,
jwcrypto and redis-py (Debian: python3-jwcrypto, python3-redis).
"""

import json
import logging
import re
import threading
import time
import urllib.request

import redis
from jwcrypto import jwk, jws, jwt
from jwcrypto.common import JWException, base64url_decode, json_decode

log = logging.getLogger("tessera_guard")

PREFIX = "tessera:"  # key prefix of the auth service (docs/redis-layout.md, Conventions)
STREAM = PREFIX + "revocations"
ALLOWED_ALGS = ("EdDSA", "ES256", "RS256")  # contract §4; never "none", never HS*
CLOCK_TOLERANCE_S = 10
MAX_TOKEN_CHARS = 4096
FEED_BLOCK_MS = 1000


class Refusal(Exception):
    """A refused request: HTTP status and a stable problem code (never the token)."""

    def __init__(self, status, code, detail):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def parse_duration_ms(text, name):
    match = re.fullmatch(r"\s*(\d+)\s*(ms|s|m|h|d)?\s*", text or "")
    if not match:
        raise ValueError(f"{name}: expected a duration like 30s, 10m, 24h, got {text!r}")
    unit = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}[match.group(2) or "ms"]
    return int(match.group(1)) * unit


class RevocationState:
    """What the stream says: revoked session ids and per-user 'tokens before' floors."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sessions = {}  # session id -> until (ms)
        self.users = {}  # user id -> (before ms, until ms)
        self.last_id = "0-0"
        self.fresh_at = 0.0  # monotonic time of the last successful read of the stream
        self.unknown_kinds = set()

    def apply(self, entry_id, fields, now_ms):
        """Applies one stream entry (fields: dict of str -> str). Returns False for an entry of a
        kind this guard does not know (skipped, as docs/redis-layout.md asks), else True."""
        kind = fields.get("k")
        known = True
        try:
            until = int(fields["until"])
            if kind == "s":
                if until > now_ms:
                    self.sessions[fields["sid"]] = until
            elif kind == "u":
                if until > now_ms:
                    for sid in fields.get("sids", "").split():
                        self.sessions[sid] = until
                    before = int(fields["before"])
                    old_before, _ = self.users.get(fields["uid"], (0, 0))
                    self.users[fields["uid"]] = (max(before, old_before), until)
            else:
                known = False
                if kind not in self.unknown_kinds:
                    self.unknown_kinds.add(kind)
                    log.warning("revocation stream: ignoring entries of unknown kind %r", kind)
        except (KeyError, ValueError):
            log.warning("revocation stream: skipping malformed entry %s", entry_id)
        self.last_id = entry_id
        return known

    def forget_expired(self, now_ms):
        self.sessions = {sid: u for sid, u in self.sessions.items() if u > now_ms}
        self.users = {uid: bu for uid, bu in self.users.items() if bu[1] > now_ms}

    def revoked(self, sid, sub, iat_s):
        with self.lock:
            if sid in self.sessions:
                return True
            floor = self.users.get(sub)
            return floor is not None and iat_s < floor[0] // 1000


class TesseraGuard:
    def __init__(self, auth_url, redis_url, audience="tessera", issuer=None, access_ttl_ms=600_000,
                 max_lag_ms=2000):
        self.auth_url = auth_url.rstrip("/")
        self.audience = audience
        self.issuer = issuer
        self.max_lifetime_s = access_ttl_ms // 1000 + CLOCK_TOLERANCE_S
        self.max_lag_s = max_lag_ms / 1000
        self.redis_url = redis_url
        # Per-request session checks: short timeouts, never hang a request.
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2,
                                          decode_responses=True)
        self.state = RevocationState()
        self.jwks = jwk.JWKSet()
        self.jwks_lock = threading.Lock()
        self.jwks_fetched = 0.0
        self.stopping = threading.Event()
        self.thread = None

    # --- keys --------------------------------------------------------------------------------

    def _get_json(self, url):
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our own auth URL)
            return json.loads(response.read())

    def refresh_keys(self):
        keys = jwk.JWKSet.from_json(json.dumps(self._get_json(self.jwks_uri)))
        with self.jwks_lock:
            self.jwks = keys
            self.jwks_fetched = time.monotonic()

    def _key_for(self, kid):
        key = self.jwks.get_key(kid)
        if key is None and time.monotonic() - self.jwks_fetched > 5:
            self.refresh_keys()  # a new key after a rotation (at most every 5 s)
            key = self.jwks.get_key(kid)
        return key

    # --- start / stop ----------------------------------------------------------------------

    def start(self):
        metadata = self._get_json(self.auth_url + "/.well-known/oauth-authorization-server")
        self.issuer = self.issuer or metadata["issuer"]
        self.jwks_uri = metadata["jwks_uri"]
        self.refresh_keys()
        self._load_snapshot(self._feed_client())
        self.thread = threading.Thread(target=self._follow, name="tessera-feed", daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()

    def _feed_client(self):
        # XREAD BLOCK 1000 needs a read timeout above the block time.
        return redis.Redis.from_url(self.redis_url, socket_timeout=FEED_BLOCK_MS / 1000 + 2,
                                    socket_connect_timeout=2, decode_responses=True)

    def _load_snapshot(self, client):
        """Step 1 of docs/redis-layout.md: the whole stream is the snapshot."""
        entries = client.xrange(STREAM, "-", "+")
        now_ms = int(time.time() * 1000)
        fresh = RevocationState()
        fresh.unknown_kinds = self.state.unknown_kinds
        for entry_id, fields in entries:
            fresh.apply(entry_id, fields, now_ms)
        with self.state.lock:
            self.state.sessions, self.state.users = fresh.sessions, fresh.users
            self.state.last_id = fresh.last_id
            self.state.fresh_at = time.monotonic()

    def _follow(self):
        """Step 2: XREAD BLOCK from the last id; on any error, reload the snapshot and go on."""
        client = self._feed_client()
        while not self.stopping.is_set():
            try:
                reply = client.xread({STREAM: self.state.last_id}, block=FEED_BLOCK_MS)
                now_ms = int(time.time() * 1000)
                all_known = True
                with self.state.lock:
                    for _stream, entries in reply or []:
                        for entry_id, fields in entries:
                            all_known = self.state.apply(entry_id, fields, now_ms) and all_known
                    self.state.forget_expired(now_ms)
                    self.state.fresh_at = time.monotonic()
                if not all_known:
                    self._on_unknown_kind()
            except redis.RedisError:
                log.warning("revocation feed lost; checking sessions per request until it is back")
                while not self.stopping.is_set():
                    time.sleep(0.5)
                    try:
                        client = self._feed_client()
                        self._load_snapshot(client)
                        break
                    except redis.RedisError:
                        continue

    def _on_unknown_kind(self):
        # A kind this guard does not know (for example a signing-key revocation) may concern the
        # keys: re-read the JWKS so a key the auth service dropped stops verifying here too.
        try:
            self.refresh_keys()
        except OSError:
            log.warning("could not re-read the JWKS after an unknown revocation entry")

    # --- per request -----------------------------------------------------------------------

    def authenticate(self, authorization):
        """Returns {userId, sessionId, roles} or raises Refusal."""
        if not authorization or not authorization.startswith("Bearer "):
            raise Refusal(401, "invalid_token", "missing bearer token")
        raw = authorization[len("Bearer "):].strip()
        if len(raw) > MAX_TOKEN_CHARS or raw.count(".") != 2:
            raise Refusal(401, "invalid_token", "malformed token")
        claims = self._verify(raw)
        sid, sub, iat = claims["sid"], claims["sub"], claims["iat"]
        if time.monotonic() - self.state.fresh_at <= self.max_lag_s:
            if self.state.revoked(sid, sub, iat):
                raise Refusal(401, "session_revoked", "the session was revoked")
        else:
            self._check_session(sid, sub)  # the feed is stale: ask Redis (or refuse with 503)
        roles = claims.get("roles", [])
        return {"userId": sub, "sessionId": sid, "roles": roles if isinstance(roles, list) else []}

    def _verify(self, raw):
        try:
            header = json_decode(base64url_decode(raw.split(".")[0]))
        except (ValueError, TypeError, UnicodeDecodeError):
            raise Refusal(401, "invalid_token", "malformed token") from None
        if not isinstance(header, dict):
            raise Refusal(401, "invalid_token", "malformed token")
        alg, kid, typ = header.get("alg"), header.get("kid"), header.get("typ")
        if alg not in ALLOWED_ALGS or not isinstance(kid, str):
            raise Refusal(401, "invalid_token", "algorithm not allowed or no key id")
        if not isinstance(typ, str) or typ.lower() not in ("at+jwt", "application/at+jwt"):
            raise Refusal(401, "invalid_token", "not an access token (typ)")
        try:
            key = self._key_for(kid)
        except OSError:
            raise Refusal(503, "store_unavailable", "the JWKS cannot be read") from None
        if key is None or key.get("alg") != alg:  # the key's own algorithm, never the header's choice
            raise Refusal(401, "invalid_token", "unknown key")
        token = jwt.JWT(algs=[alg], check_claims={"iss": self.issuer, "aud": self.audience, "exp": None})
        token.leeway = CLOCK_TOLERANCE_S
        try:
            token.deserialize(raw, key)  # signature with this key only; jku/x5u/jwk headers ignored
            claims = json_decode(token.claims)
        except jwt.JWTExpired:
            raise Refusal(401, "token_expired", "the access token has expired") from None
        except (JWException, ValueError, TypeError):
            raise Refusal(401, "invalid_token", "invalid token") from None
        now = time.time()
        iat, nbf = claims.get("iat"), claims.get("nbf")
        if not all(isinstance(claims.get(name), str) and claims.get(name) for name in ("sub", "sid")):
            raise Refusal(401, "invalid_token", "sub and sid required")
        if not isinstance(iat, int) or iat > now + CLOCK_TOLERANCE_S:
            raise Refusal(401, "invalid_token", "iat missing or in the future")
        if nbf is not None and (not isinstance(nbf, int) or nbf > now + CLOCK_TOLERANCE_S):
            raise Refusal(401, "invalid_token", "not yet valid")
        if claims["exp"] - iat > self.max_lifetime_s:
            raise Refusal(401, "invalid_token", "lifetime longer than the access TTL")
        if not claims["sid"].startswith(claims["sub"] + "."):
            raise Refusal(401, "invalid_token", "session of another user")
        return claims

    def _check_session(self, sid, sub):
        """docs/redis-layout.md, 'Checking a session directly' (jwt mode)."""
        user_id = sid.split(".", 1)[0]
        key = f"{PREFIX}{{u:{user_id}}}:s:{sid}"
        try:
            rv, exp, uid = self.redis.hmget(key, "rv", "exp", "uid")
        except redis.RedisError:
            raise Refusal(503, "store_unavailable", "the session store is unavailable") from None
        if uid is None or rv == "1" or uid != sub or int(exp or 0) <= int(time.time() * 1000):
            raise Refusal(401, "session_revoked", "the session was revoked")
