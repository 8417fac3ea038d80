#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a web page of another site can do to a camgate that listens on loopback (issue 12):
nothing. Runs camgate in the private network namespace run-in-netns.sh makes and talks to
it with raw HTTP (http.client), as a browser of another site would: DNS rebinding (a foreign
Host), cross-site POSTs with and without Fetch Metadata, CORS on every path, the security
headers, WHEP players on a listed origin, one viewer limit shared by WHEP and rooms,
trickled candidates through rooms, per-client sign-in throttling, a --listen address the
machine lacks, and HSTS with a configured certificate only. TAP output.

usage: test-http-security.py CAMGATE SDP_OFFER_FILE
"""
import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

CAMGATE, OFFER_FILE = sys.argv[1], sys.argv[2]
OFFER = open(OFFER_FILE, encoding="utf-8").read().replace("\n", "\r\n")
PORT = 8080
EVIL = "https://evil.example"
PLAYER = "https://player.example"

results = []


def check(what, cond, detail=""):
    results.append(cond)
    n = len(results)
    print(f"{'ok' if cond else 'not ok'} {n} - {what}" + ("" if cond else f" # {detail}"),
          flush=True)


def request(method, path, headers=None, body=None, source="127.0.0.1", host="127.0.0.1",
            tls=False):
    """One request on a fresh connection; returns (status, headers dict lower-case, body)."""
    if tls:
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", PORT, timeout=10, context=ctx,
                                           source_address=(source, 0))
    else:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10,
                                          source_address=(source, 0))
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", f"{host}:{PORT}" if host and ":" not in host else host)
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    data = body.encode() if isinstance(body, str) else body
    if data is not None:
        conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    resp = conn.getresponse()
    out = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    conn.close()
    return out


class Daemon:
    def __init__(self, *args, expect_listen=True, state=None):
        self.dir = tempfile.mkdtemp(prefix="camgate-sec-")
        self.state = state or f"{self.dir}/state"
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(
            [CAMGATE, "--source=test", "--size=320x240", "--fps=10", "--audio=none",
             f"--state-dir={self.state}", *args],
            stdout=self.log, stderr=subprocess.STDOUT)
        if expect_listen:
            self.wait_listening()

    def wait_listening(self):
        for _ in range(200):
            if self.proc.poll() is not None:
                raise RuntimeError("camgate exited: " + self.text())
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("camgate does not listen: " + self.text())

    def text(self):
        self.log.flush()
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class WebSocket:
    """A minimal RFC 6455 client: text frames, masked, no fragmentation."""

    def __init__(self, origin=None):
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        head = (f"GET /rooms/ws HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n")
        if origin:
            head += f"Origin: {origin}\r\n"
        self.sock.sendall((head + "\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            buf += chunk
        self.status = int(buf.split(b" ", 2)[1]) if buf else 0
        self.pending = buf.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in buf else b""

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else
                                bytes([0x80 | 126]) + n.to_bytes(2, "big"))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.pending) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.pending += chunk
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def recv(self):
        """The next JSON message (pings are answered by nobody: tests are short)."""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(self._read(2), "big")
            elif n == 127:
                n = int.from_bytes(self._read(8), "big")
            data = self._read(n)
            if b0 & 0x0F == 1:
                return json.loads(data)

    def recv_type(self, *types):
        for _ in range(50):
            m = self.recv()
            if m.get("type") in types:
                return m
        return {}

    def close(self):
        self.sock.close()


def whep_post(origin=None, extra=None, source="127.0.0.1"):
    h = {"Content-Type": "application/sdp"}
    if origin:
        h["Origin"] = origin
    h.update(extra or {})
    return request("POST", "/whep", h, OFFER, source=source)


def test_loopback_defaults():
    d = Daemon(f"--listen=127.0.0.1:{PORT}", "--max-viewers=1", "--max-candidates=2")
    try:
        st, h, body = request("GET", "/status", host="evil.example")
        check("a foreign Host (DNS rebinding) gets 421 and nothing else",
              st == 421 and b"viewers" not in body and "access-control-allow-origin" not in h,
              f"{st} {body[:80]}")
        st, _, _ = request("GET", "/snapshot.jpg", host="rebind.evil.example:8080")
        check("/snapshot.jpg under a foreign Host is 421", st == 421, st)
        ok = all(request("GET", "/status", host=n)[0] == 200
                 for n in ("127.0.0.1", "localhost", "[::1]", socket.gethostname()))
        check("127.0.0.1, localhost, [::1] and the host name are served", ok)
        st, h, _ = request("GET", "/status", {"Origin": EVIL})
        check("/status carries no Access-Control-Allow-Origin",
              st == 200 and "access-control-allow-origin" not in h, str(h))
        st, h, _ = request("OPTIONS", "/whep", {"Origin": EVIL,
                                                "Access-Control-Request-Method": "POST"})
        check("a preflight from an unlisted origin gets no CORS headers",
              st == 204 and not any(k.startswith("access-control-") for k in h), str(h))
        st, _, body = whep_post(EVIL)
        check("POST /whep with a foreign Origin is 403", st == 403, f"{st} {body[:80]}")
        st, _, _ = whep_post(None, {"Sec-Fetch-Site": "cross-site"})
        check("POST /whep with Sec-Fetch-Site: cross-site is 403", st == 403, st)
        st, _, _ = request("POST", "/login", {"Origin": EVIL,
                                               "Content-Type": "application/x-www-form-urlencoded"},
                           "secret=x")
        check("a cross-site sign-in POST is 403", st == 403, st)
        ws = WebSocket(origin=EVIL)
        check("the rooms WebSocket from a foreign origin is 403", ws.status == 403, ws.status)
        ws.close()
        st, h, body = request("GET", "/")
        csp = h.get("content-security-policy", "")
        check("the page has the CSP and the other security headers",
              st == 200 and all(x in csp for x in (
                  "default-src 'self'", "connect-src 'self'", "frame-ancestors 'none'",
                  "base-uri 'none'", "form-action 'self'"))
              and h.get("x-content-type-options") == "nosniff"
              and h.get("referrer-policy") == "no-referrer"
              and h.get("permissions-policy") == "microphone=(self)"
              and "strict-transport-security" not in h, str(h))
        # One viewer limit: a WHEP viewer from our own page fills --max-viewers=1 ...
        st, h, _ = whep_post(f"http://127.0.0.1:{PORT}", {"Sec-Fetch-Site": "same-origin"})
        check("POST /whep from the page's own origin is 201", st == 201, st)
        location = h.get("location", "")
        ws = WebSocket()
        ws.send({"type": "join", "room": "sec"})
        ws.recv_type("joined")
        ws.send({"type": "offer", "sdp": OFFER})
        m = ws.recv_type("answer", "error")
        check("... so a room call to camgate is refused by the same limit",
              m.get("type") == "error" and m.get("about") == "offer", str(m))
        st, _, body = request("GET", "/status")
        check("/status counts the WHEP viewer", st == 200 and json.loads(body)["viewers"] == 1,
              body[:200])
        request("DELETE", location)
        ws.send({"type": "offer", "sdp": OFFER})
        m = ws.recv_type("answer", "error")
        check("once the WHEP viewer left, the room call is answered", m.get("type") == "answer",
              str(m))
        st, _, _ = whep_post()
        check("... and now a WHEP viewer gets 503: the call counts", st == 503, st)
        st, _, body = request("GET", "/status")
        check("/status counts the room call as a viewer", json.loads(body)["viewers"] == 1,
              body[:200])
        errors = []
        for i in range(3):
            ws.send({"type": "candidate", "label": 0, "id": "0",
                     "candidate": f"candidate:{i} 1 udp 2122260223 127.0.0.1 {40000 + i} typ host"})
        ws.send({"type": "ping"})
        for _ in range(10):
            m = ws.recv()
            if m.get("type") == "pong":
                break
            if m.get("type") == "error":
                errors.append(m)
        check("a third trickled candidate over --max-candidates=2 is refused in rooms",
              len(errors) == 1 and "candidates" in errors[0].get("message", ""), str(errors))
        ws.close()
    finally:
        d.stop()


def test_cors_origins():
    d = Daemon(f"--listen=127.0.0.1:{PORT}", f"--cors-origins={PLAYER}")
    try:
        st, h, _ = request("OPTIONS", "/whep", {"Origin": PLAYER,
                                                "Access-Control-Request-Method": "POST"})
        check("a listed origin gets the WHEP preflight",
              st == 204 and h.get("access-control-allow-origin") == PLAYER
              and "POST" in h.get("access-control-allow-methods", ""), str(h))
        st, h, _ = whep_post(PLAYER)
        check("a listed origin's player may POST /whep and read the answer",
              st == 201 and h.get("access-control-allow-origin") == PLAYER
              and "Location" in h.get("access-control-expose-headers", ""), f"{st} {h}")
        if st == 201:
            request("DELETE", h["location"], {"Origin": PLAYER})
        st, h, _ = request("GET", "/status", {"Origin": PLAYER})
        check("the listed origin gets no CORS on /status",
              "access-control-allow-origin" not in h, str(h))
        st, h, _ = whep_post(EVIL)
        check("another origin is still refused", st == 403, st)
    finally:
        d.stop()


def test_room_camera():
    """Rooms: camgate as a peer offers the camera named in the join (issue 13)."""
    d = Daemon(f"--listen=127.0.0.1:{PORT}", "--camera=front=test,size=320x240",
               "--camera=back=test,size=160x120")
    try:
        for camera, want in (("back", "answer"), ("nope", "error"), (None, "answer")):
            ws = WebSocket()
            join = {"type": "join", "room": "cams" + (camera or "")}
            if camera:
                join["camera"] = camera
            ws.send(join)
            ws.recv_type("joined")
            ws.send({"type": "offer", "sdp": OFFER})
            m = ws.recv_type("answer", "error")
            check(f"a room call joined for camera {camera or '(the first)'} gets {want}",
                  m.get("type") == want
                  and (want == "answer" or "no such camera" in m.get("message", "")), str(m)[:200])
            ws.close()
        ws = WebSocket()
        ws.send({"type": "join", "room": "x", "camera": "Bad Name"})
        m = ws.recv_type("joined", "error")
        check("a join naming a camera that is not a camera name is refused",
              m.get("type") == "error", str(m))
        ws.close()
    finally:
        d.stop()


def test_login_throttle():
    pw = "correct horse battery"
    short = subprocess.run([CAMGATE, "--hash-password"], input="short\n", text=True,
                           capture_output=True)
    check("--hash-password refuses a password under 10 characters",
          short.returncode != 0 and "at least 10 characters" in short.stderr, short.stderr)
    hashed = subprocess.run([CAMGATE, "--hash-password"], input=pw + "\n", text=True,
                            capture_output=True).stdout.strip()
    state = tempfile.mkdtemp(prefix="camgate-state-")
    args = (f"--listen=127.0.0.1:{PORT}", "--auth=on", f"--password-hash={hashed}")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    d = Daemon(*args, state=state)
    cookie = None
    try:
        codes = [request("POST", "/login", form, "secret=wrong-guess-" + str(i),
                         source="127.0.0.2")[0] for i in range(12)]
        check("one client guessing is throttled (429)", 429 in codes, codes)
        st, h, _ = request("POST", "/login", form, "secret=" + pw.replace(" ", "+"),
                           source="127.0.0.3")
        check("another client still signs in meanwhile",
              st == 303 and "set-cookie" in h, f"{st} {h}")
        cookie = h.get("set-cookie", "").split(";")[0]
        mode = oct(os.stat(os.path.join(state, "cookie-key")).st_mode & 0o777)
        check("the cookie key is kept 0600 in the state directory", mode == "0o600", mode)
    finally:
        d.stop()
    d = Daemon(*args, state=state)
    try:
        st, _, _ = request("GET", "/status", {"Cookie": cookie})
        check("the cookie still opens /status after a restart", st == 200, st)
        st, _, _ = request("POST", "/logout", {"Cookie": cookie, "Origin": f"http://127.0.0.1:{PORT}"})
        check("POST /logout answers", st == 303, st)
        st, _, _ = request("GET", "/status", {"Cookie": cookie})
        check("a signed-out cookie is refused", st == 401, st)
    finally:
        d.stop()
    d = Daemon(*args, state=state)
    try:
        st, _, _ = request("GET", "/status", {"Cookie": cookie})
        check("... also after a restart", st == 401, st)
    finally:
        d.stop()
        shutil.rmtree(state, ignore_errors=True)


def test_listen_missing_address():
    d = Daemon("--listen=192.0.2.1:8080", expect_listen=False)
    try:
        d.proc.wait(timeout=20)
        text = d.text()
        check("--listen on an address the machine lacks says so",
              d.proc.returncode != 0 and "no such address" in text
              and "already in use" not in text, text[-300:])
    finally:
        d.stop()


def tls12_handshake(ciphers):
    """Whether a TLS 1.2 handshake offering only these OpenSSL cipher names succeeds."""
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers)
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=10) as raw:
            with ctx.wrap_socket(raw) as tls:
                return tls.cipher() is not None
    except (ssl.SSLError, OSError):
        return False


def check_tls_suites():
    check("HTTPS: ECDHE with AES-GCM is accepted",
          tls12_handshake("ECDHE-RSA-AES128-GCM-SHA256"))
    check("HTTPS: ECDHE with a CBC cipher is refused",
          not tls12_handshake("ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384"))
    check("HTTPS: RSA key transport is refused", not tls12_handshake("AES128-GCM-SHA256:AES128-SHA"))
    check("HTTPS: finite-field DHE is refused", not tls12_handshake("DHE-RSA-AES128-GCM-SHA256"))


def test_hsts():
    tmp = tempfile.mkdtemp(prefix="camgate-cert-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    # RSA, so that RSA key transport and DHE-RSA could be chosen if the policy allowed them.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=localhost", "-days", "2", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    for args, want, what in (
            (["--tls=on"], False, "no HSTS with the self-signed certificate"),
            ([f"--tls-cert={cert}", f"--tls-key={key}", "--tls=on"], True,
             "HSTS with a configured certificate")):
        d = Daemon(f"--listen=127.0.0.1:{PORT}", *args)
        try:
            st, h, _ = request("GET", "/status", tls=True)
            check(what, st == 200 and ("strict-transport-security" in h) == want, str(h))
            if want:
                check_tls_suites()
        finally:
            d.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def main():
    subprocess.run(["ip", "addr", "add", "127.0.0.2/8", "dev", "lo"], capture_output=True)
    tests = [test_loopback_defaults, test_cors_origins, test_room_camera, test_login_throttle,
             test_listen_missing_address]
    if shutil.which("openssl"):
        tests.append(test_hsts)
    for t in tests:
        try:
            t()
        except Exception as e:  # a crash of one group is a failure, not the end of the run
            check(f"{t.__name__} ran to its end", False, repr(e))
    print(f"1..{len(results)}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
