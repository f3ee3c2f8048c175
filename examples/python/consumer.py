#!/usr/bin/env python3
"""A webhook consumer for the platform, on the Python standard library alone.

For each POST to WEBHOOK_PATH it:
  1. checks the API key header (API_KEY) or an OAuth bearer token issued by its own tiny
     client-credentials endpoint, POST /oauth/token (OAUTH_CLIENT_ID / OAUTH_CLIENT_SECRET),
  2. verifies the Standard Webhooks signature (WEBHOOK_SECRET, whsec_...): HMAC-SHA256 of
     "<webhook-id>.<webhook-timestamp>.<raw body>", and refuses a timestamp more than 5 minutes off,
  3. answers 204 at once and hands the event to a worker thread, which skips an event id it has
     already seen, leaves test events (is_test) at that, and fetches the full event from
     GET /v2/events/{id} on the config service.

One JSON line per decision goes to stdout ({"msg": "processed", ...}); replace it with your own work.
"""
import base64
import hashlib
import hmac
import json
import os
import queue
import secrets
import signal
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 5 * 60
MAX_BODY = 64 * 1024


def fail(message):
    print(f"python consumer: {message}", file=sys.stderr)
    sys.exit(2)


env = os.environ
HOST = env.get("HOST", "127.0.0.1")
PORT = int(env.get("PORT", "8443"))
WEBHOOK_PATH = env.get("WEBHOOK_PATH", "/webhooks")
TLS_CERT_FILE = env.get("TLS_CERT_FILE")
TLS_KEY_FILE = env.get("TLS_KEY_FILE")
WEBHOOK_SECRET = env.get("WEBHOOK_SECRET") or fail("WEBHOOK_SECRET is required")
API_KEY_HEADER = env.get("API_KEY_HEADER", "X-Api-Key")
API_KEY = env.get("API_KEY")
OAUTH_CLIENT_ID = env.get("OAUTH_CLIENT_ID")
OAUTH_CLIENT_SECRET = env.get("OAUTH_CLIENT_SECRET")
PLATFORM_URL = env.get("PLATFORM_URL", "http://127.0.0.1:3000").rstrip("/")
PLATFORM_TOKEN = env.get("PLATFORM_TOKEN")
if not API_KEY and not OAUTH_CLIENT_ID:
    fail("set API_KEY (API-key webhooks) or OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET (OAuth webhooks)")
if OAUTH_CLIENT_ID and not OAUTH_CLIENT_SECRET:
    fail("OAUTH_CLIENT_SECRET is required with OAUTH_CLIENT_ID")
if TLS_CERT_FILE and not TLS_KEY_FILE:
    fail("TLS_KEY_FILE is required with TLS_CERT_FILE")

_log_lock = threading.Lock()


def log(**fields):
    line = json.dumps({"time": datetime.now(timezone.utc).isoformat(), **fields})
    with _log_lock:
        print(line, flush=True)


def signing_key(secret):
    return base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)


KEY = signing_key(WEBHOOK_SECRET)


class BadSignature(Exception):
    pass


def verify(body, msg_id, timestamp, signature_header, now=None):
    """Raises BadSignature unless one `v1,<base64>` signature matches and the timestamp is recent."""
    if not msg_id or not timestamp or not signature_header:
        raise BadSignature("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        ts = int(timestamp)
    except ValueError:
        raise BadSignature("webhook-timestamp is not a number")
    if abs((now or time.time()) - ts) > TOLERANCE_SECONDS:
        raise BadSignature("webhook-timestamp is more than 5 minutes off")
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(KEY, signed, hashlib.sha256).digest()).decode()
    for candidate in signature_header.split(" "):
        version, _, sig = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return
    raise BadSignature("no matching signature")


# Access tokens this consumer's token endpoint issued: token -> expiry (epoch seconds).
issued_tokens = {}
issued_lock = threading.Lock()


def authorised(headers):
    if API_KEY:
        return hmac.compare_digest((headers.get(API_KEY_HEADER) or "").encode(), API_KEY.encode())
    auth = headers.get("Authorization") or ""
    if not auth.startswith("Bearer "):
        return False
    with issued_lock:
        expires = issued_tokens.get(auth[len("Bearer "):])
    return expires is not None and expires > time.time()


work = queue.Queue()
seen = set()  # event ids already taken in; a real consumer keeps them in its database (a unique key)


def fetch_event(event_id):
    """The full event (the webhook body is thin on purpose), retried a few times on failure."""
    if not PLATFORM_TOKEN:
        raise RuntimeError("PLATFORM_TOKEN is not set, cannot fetch the event")
    url = f"{PLATFORM_URL}/v2/events/{urllib.parse.quote(event_id)}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {PLATFORM_TOKEN}", "Accept": "application/json"})
    for attempt in range(1, 6):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except (urllib.error.URLError, OSError) as err:
            if attempt == 5:
                raise RuntimeError(f"GET /v2/events/{event_id} failed: {err}")
            time.sleep(0.2 * 2 ** attempt)


def worker():
    while True:
        thin = work.get()
        try:
            if thin["id"] in seen:
                log(msg="duplicate", event_id=thin["id"])
                continue
            seen.add(thin["id"])
            if thin.get("is_test"):
                log(msg="test-event", event_id=thin["id"], type=thin.get("type"))
                continue
            event = fetch_event(thin["id"])
            log(msg="processed", event_id=thin["id"], type=thin.get("type"), object_type=event.get("object_type"), object=event.get("object"))
        except Exception as err:  # keep the worker alive whatever one event does
            log(msg="failed", event_id=thin.get("id"), error=str(err))


class Handler(BaseHTTPRequestHandler):
    server_version = "consumer"
    sys_version = ""
    timeout = 15  # a client that stalls holds only its own thread, and not for long

    def setup(self):
        # The TLS handshake happens here, on this request's thread, not in the accepting loop.
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()

    def log_message(self, format, *args):  # the JSON lines are the log
        pass

    def answer(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length)

    def do_POST(self):
        path = self.path.split("?")[0]
        if path == "/oauth/token" and OAUTH_CLIENT_ID:
            return self.token()
        if path != WEBHOOK_PATH:
            return self.answer(404)
        body = self.read_body()
        if body is None:
            return self.answer(413)
        msg_id = self.headers.get("webhook-id")
        if not authorised(self.headers):
            log(msg="rejected", reason="unauthorised", webhook_id=msg_id)
            return self.answer(401)
        try:
            verify(body, msg_id, self.headers.get("webhook-timestamp"), self.headers.get("webhook-signature"))
            thin = json.loads(body)
        except (BadSignature, ValueError) as err:
            log(msg="rejected", reason=f"signature: {err}", webhook_id=msg_id)
            return self.answer(400)
        # Answer first (the platform waits at most 10 s); the worker does the rest.
        self.answer(204)
        work.put(thin)

    def token(self):
        """OAuth 2.0 client credentials (RFC 6749 4.4), client authenticated by Basic header or form fields."""
        body = self.read_body() or b""
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        client_id = (form.get("client_id") or [""])[0]
        client_secret = (form.get("client_secret") or [""])[0]
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[len("Basic "):]).decode().partition(":")
            except ValueError:
                return self.answer(400, {"error": "invalid_request"})
            client_id, client_secret = urllib.parse.unquote(user), urllib.parse.unquote(password)
        if (form.get("grant_type") or [""])[0] != "client_credentials":
            return self.answer(400, {"error": "unsupported_grant_type"})
        if not (hmac.compare_digest(client_id.encode(), OAUTH_CLIENT_ID.encode()) and hmac.compare_digest(client_secret.encode(), OAUTH_CLIENT_SECRET.encode())):
            return self.answer(401, {"error": "invalid_client"})
        token = secrets.token_urlsafe(24)
        with issued_lock:
            issued_tokens[token] = time.time() + 3600
        self.answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})


def main():
    server = ThreadingHTTPServer((HOST, PORT), Handler)
    scheme = "http"
    if TLS_CERT_FILE:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS_CERT_FILE, TLS_KEY_FILE)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https"
    threading.Thread(target=worker, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    log(msg="listening", url=f"{scheme}://{HOST}:{server.server_address[1]}{WEBHOOK_PATH}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
