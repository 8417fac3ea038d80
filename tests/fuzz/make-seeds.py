#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Regenerates the hand-made seed inputs of tests/fuzz/corpus/ (run from any directory):
# every target's, or only those of the targets named as arguments (e.g. fuzz-http-server).
# Browser SDPs are copied from tests/data/sdp; H.264 AUs are cut from tests/data/h264; the
# config seeds start from systemd/camgate.conf.
import hashlib
import hmac
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data')
CORPUS = os.path.join(HERE, 'corpus')
ONLY = set(sys.argv[1:])  # the targets to write; empty: every one


def wanted(target):
    return not ONLY or target in ONLY


def w(target, name, b):
    if not wanted(target):
        return
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), 'wb') as f:
        f.write(b)


def sdp():
    d = os.path.join(DATA, 'sdp')
    for n in sorted(f for f in os.listdir(d) if f.endswith('.sdp') and wanted('fuzz-sdp')):
        os.makedirs(os.path.join(CORPUS, 'fuzz-sdp'), exist_ok=True)
        shutil.copy(os.path.join(d, n), os.path.join(CORPUS, 'fuzz-sdp', n))
    w('fuzz-sdp-fragment', 'rfc8840-example',
      b"a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\nm=audio 9 RTP/AVP 0\r\n"
      b"a=mid:1\r\na=candidate:1 1 UDP 2130706431 10.0.1.17 8998 typ host\r\n"
      b"a=candidate:2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.17 rport 8998\r\n"
      b"a=end-of-candidates\r\n")
    w('fuzz-sdp-fragment', 'whep-patch',
      b"a=group:BUNDLE 0\r\na=ice-ufrag:Vq4z\r\na=ice-pwd:vW2JqDu8dpfhVbTgjq0ZfZ1n\r\n"
      b"m=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:3471623853 1 udp 2122194687 "
      b"d3b1c0f1-1d2e-4a53-9c55-2a8e5b0f4f11.local 61765 typ host generation 0 ufrag Vq4z "
      b"network-id 1\r\n")
    w('fuzz-sdp-fragment', 'lf-only-eoc', b"a=ice-ufrag:x\na=ice-pwd:y\na=end-of-candidates\n")


def hdr(count, pt, body, first=0x80):
    assert len(body) % 4 == 0
    return struct.pack('!BBH', first | count, pt, len(body) // 4) + body


def block(ssrc, fl, cum, hs, j, lsr, dlsr):
    return (struct.pack('!IB', ssrc, fl) + (cum & 0xffffff).to_bytes(3, 'big') +
            struct.pack('!IIII', hs, j, lsr, dlsr))


def rtcp():
    sr = hdr(1, 200, struct.pack('!IQIII', 0x1111, 0x83aa7e8180000000, 90000, 10, 12345) +
             block(0x2222, 10, -1, 5000, 30, 0, 0))
    sdes = hdr(1, 202, struct.pack('!IBB', 0x1111, 1, 7) + b'camgate' + b'\0' * 3)
    rr = hdr(2, 201, struct.pack('!I', 0x3333) + block(0x1111, 0, 0, 100, 1, 2, 3) +
             block(0x4444, 255, 0x7fffff, 7, 8, 9, 10))
    pli = hdr(1, 206, struct.pack('!II', 0x3333, 0x1111))
    fir = hdr(4, 206, struct.pack('!IIIB3x', 0x3333, 0, 0x1111, 9))
    nack = hdr(1, 205, struct.pack('!IIHHHH', 0x3333, 0x1111, 100, 0x8001, 65535, 0xffff))
    remb = hdr(15, 206, struct.pack('!II', 0x3333, 0) + b'REMB' + struct.pack('!B', 2) +
               ((5 << 18) | 150000).to_bytes(3, 'big') + struct.pack('!II', 0x1111, 0x5555))
    bye = hdr(1, 203, struct.pack('!I', 0x3333) + b'\x03bye' + b'\0\0\0\x04', first=0xa0)
    twcc = hdr(15, 205, struct.pack('!IIHHI', 0x3333, 0x1111, 1, 2, 0) + b'\x20\x02\0\0')
    app = hdr(0, 204, struct.pack('!I', 0x3333) + b'name' + b'data')
    xr = hdr(0, 207, struct.pack('!I', 0x3333) + struct.pack('!BBHQ', 4, 0, 2, 0))
    for n, b in [('sr-sdes', sr + sdes), ('rr', rr), ('pli', pli), ('fir', fir),
                 ('nack', nack), ('remb', remb), ('bye-padded', bye),
                 ('compound-rr-remb-nack-pli', rr + remb + nack + pli), ('twcc', twcc),
                 ('app-xr', app + xr), ('truncated-sr', sr[:20]),
                 ('bad-length', pli[:3] + b'\x09' + pli[4:])]:
        w('fuzz-rtcp', n, b)


def rtp_pkt(pt, m, seq, first=0x80, extra=b''):
    return struct.pack('!BBHII', first, (0x80 if m else 0) | pt, seq, 3000 * seq, 0x1234) + extra


def rtp():
    w('fuzz-rtp', 'plain', rtp_pkt(102, True, 1, extra=b'\x65\x88\x84\x00'))
    w('fuzz-rtp', 'one-byte-ext', rtp_pkt(106, False, 2, 0x90,
      b'\xbe\xde\x00\x02\x52\x00\x00\x00\x22\x01\x02\x03' + b'\x7c\x85abc'))
    w('fuzz-rtp', 'two-byte-ext', rtp_pkt(96, False, 3, 0x90,
      b'\x10\x00\x00\x02\x07\x02\xab\xcd\x00\x08\x00\x00' + b'\x41\x9a'))
    w('fuzz-rtp', 'csrc-padding', rtp_pkt(96, True, 4, 0xa2,
      b'\0\0\0\1\0\0\0\2' + b'payload' + b'\0\0\3'))
    w('fuzz-rtp', 'rtcp-looking', struct.pack('!BBH', 0x81, 206, 2) + b'\0\0\0\1\0\0\0\2')
    w('fuzz-rtp', 'stun', bytes.fromhex('000100002112a442') + b'\x11' * 12)


def h264():
    # The first byte selects the payload size (64 + 6 * byte); the rest is one AU.
    with open(os.path.join(DATA, 'h264', 'testsrc-320x240-cb-aud.h264'), 'rb') as f:
        data = f.read()
    aud = b'\x00\x00\x00\x01\x09'
    starts = []
    i = data.find(aud)
    while i >= 0:
        starts.append(i)
        i = data.find(aud, i + 1)
    starts.append(len(data))
    for k in (0, 1, 2, 5, 6):
        w('fuzz-h264', 'testsrc-au%02d' % k, bytes([(0xc4, 0x00, 0x40)[k % 3]]) +
          data[starts[k]:starts[k + 1]])
    w('fuzz-h264', 'three-byte-trailing-zeros', b'\x00' +
      b'\x00\x00\x01\x67\x42\xc0\x1f\xda' + b'\x00\x00\x01\x68\xce\x0f\xc8' +
      b'\x00\x00\x01\x65' + bytes(range(1, 200)) + b'\x00\x00\x00')
    w('fuzz-h264', 'stap-fu-payloads', b'\x00' +
      b'\x02\x78\x00\x05\x67\x42\xc0\x1f\xda\x00\x02\x68\xce' + b'\x05\x7c\x85\x01\x02\x03' +
      b'\x83\x7c\x45\x04')


def config():
    with open(os.path.join(HERE, '..', '..', 'systemd', 'camgate.conf'), 'rb') as f:
        w('fuzz-config', 'systemd-example', f.read())
    full = (b"[camgate]\nsource = test\nencoder = x264\nlisten = [::1]:8443\nsize = 640x480\n"
            b"fps = 15\nbitrate = 800\nmin-bitrate = 200\nmax-bitrate = 1500\n"
            b"keyframe-interval = 30\nworkers = 2\nmax-viewers = 10\nmax-candidates = 20\n"
            b"log-level = debug\nstate-dir = /var/lib/camgate\ntls = on\n"
            b"tls-cert = /etc/camgate/cert.pem\ntls-key = /etc/camgate/key.pem\nauth = on\n"
            b"token = abcdefghijklmnop-._~0123\n"
            b"password-hash = pbkdf2-sha256$200000$c2FsdHNhbHRzYWx0c2FsdA==$"
            b"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
            b"stun = stun:stun.example.net\nturn = turn:turn.example.net:3478\n"
            b"turn-transport = tls\nturn-user = user\nturn-password = pass word!\n"
            b"audio = hw:1,0\nspeaker = plughw:CARD=Mic,DEV=0\n")
    w('fuzz-config', 'every-key', full)
    w('fuzz-config', 'crlf-comments', b"# c\r\n[camgate]\r\n  fps=10  \r\n\r\nlisten = :9000\r\n")
    w('fuzz-config', 'escapes', b"[camgate]\nsource = /dev/video\\s0\nencoder = a\\nb\n")
    for n, t in [('bad-range', b"[camgate]\nfps = 500\n"), ('bad-group', b"[other]\nfps = 1\n"),
                 ('duplicate', b"[camgate]\nfps=10\nfps=12\n"), ('no-equals', b"[camgate]\nfps\n"),
                 ('outside', b"fps = 10\n"), ('cross', b"[camgate]\ntls-cert = /a\nturn = t\n"
                                              b"min-bitrate = 900\nmax-bitrate = 800\n")]:
        w('fuzz-config', n, t)


def auth():
    tok = b'fuzz-token-0123456789abcdef'
    for n, b in [('bearer', b'\0Bearer ' + tok), ('bearer-case-spaces', b'\0bEaReR    ' + tok),
                 ('bearer-wrong', b'\0Bearer fuzz-token-0123456789abcdeg'),
                 ('basic', b'\0Basic dXNlcjpwYXNz'), ('token-setting', b'\0' + tok),
                 ('cookie-alone', b'\x01theme=dark; camgate_auth=1700003600.00ff'),
                 ('cookie-around', b'\x01theme=dark; \xff; lang=en'),
                 ('cookie-first', b'\x01\xff;x=y'),
                 ('form', b'\x02secret=s3cr%3Dt+word&next=%2F'),
                 ('form-second-field', b'\x02a=b&secret=%E2%9C%93&secret=again'),
                 ('form-bad-escape', b'\x02secret=%zz'), ('form-nul', b'\x02secret=%00x'),
                 ('hash-valid', b'\x03pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA==$'
                                b'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='),
                 ('hash-extra-field', b'\x03pbkdf2-sha256$1000$c2FsdA==$AAEC$x'),
                 ('password', b'\x03correct horse battery staple')]:
        w('fuzz-auth', n, b)


def twcc_fb(base, count, ref, chunks, deltas):
    body = struct.pack('!IIHH', 0x3333, 0x1111, base, count) + ref.to_bytes(3, 'big') + b'\x00'
    body += b''.join(struct.pack('!H', c) for c in chunks) + bytes(deltas)
    body += b'\0' * (-len(body) % 4)
    return hdr(15, 205, body)


def twcc():
    pre = struct.pack('!HH', 100, 60)  # history: sequence numbers 100..159
    # A run of 10 received (small deltas), a 1-bit vector (14: 7 received), a 2-bit vector.
    fb = twcc_fb(100, 10, 1000, [0x200a], [4] * 10)
    fb2 = twcc_fb(110, 14, 1001, [0xaaaa], [1] * 7)
    fb3 = twcc_fb(124, 7, 1002, [0xe5a4], [2, 0xff, 0xfe, 1, 3])
    lost = twcc_fb(131, 20, 0x800000, [0x0014], [])
    for n, b in [('run', pre + fb), ('vectors', pre + fb2 + fb3), ('lost-run', pre + lost),
                 ('compound-rr-twcc', pre + hdr(0, 201, struct.pack('!I', 0x3333)) + fb),
                 ('wrapping', struct.pack('!HH', 65530, 40) + twcc_fb(65530, 12, 5, [0x200c],
                                                                     [1] * 12)),
                 ('no-history', struct.pack('!HH', 0, 0) + fb),
                 ('truncated', pre + fb[:-4])]:
        w('fuzz-twcc', n, b)


def nack():
    units = [(100, 10), (110, 3), (113, 40), (65530, 12)]
    pre = bytes([len(units)]) + b''.join(struct.pack('!HB', s, c - 1) for s, c in units)
    nk = hdr(1, 205, struct.pack('!IIHHHH', 0x3333, 0x1111, 100, 0x8001, 65535, 0xffff))
    many = bytes([80]) + b''.join(struct.pack('!HB', 1000 + 7 * i, 6) for i in range(80))
    for n, b in [('nack', pre + nk), ('wrap', pre + hdr(1, 205, struct.pack(
                     '!IIHH', 0x3333, 0x1111, 65534, 0xffff))),
                 ('evicted', many + hdr(1, 205, struct.pack('!IIHHHH', 0x3333, 0x1111, 1000,
                                                            0xffff, 1500, 0x00ff)))]:
        w('fuzz-nack', n, b)


# fuzz-http-server: what browsers, WHEP players, curl and scrapers send, as bytes on the
# connection. The target's configuration A takes this token; its fake clock reads
# 1700000000 (UTC); its fake sessions are named fz00000000000001, fz00000000000002... in
# each pass.
HS_TOKEN = b'fuzz-token-0123456789abcdef'
HS_SESSION = b'fz00000000000001'
HS_NOW = 1700000000
# The key the target has auth sign its login cookies with (fuzz-http-server.c,
# FUZZ_COOKIE_KEY): so a seed can carry a cookie that signaling accepts.
HS_COOKIE_KEY = b'fuzz-cookie-key-0123456789abcdef'


def hs_cookie(login=HS_NOW - 600, issued=None, sign_in=b'\x5e' * 16, key=HS_COOKIE_KEY):
    """A "camgate_auth=" login cookie as daemon/app/auth.c makes them (v2): the sign-in's
    id (hex), its time and the cookie's issue time (decimal seconds), then the HMAC-SHA256
    under the cookie key of "camgate-cookie-v2" NUL and those three fields (hex)."""
    payload = b'%s.%d.%d' % (sign_in.hex().encode(), login, login if issued is None else issued)
    mac = hmac.new(key, b'camgate-cookie-v2\0' + payload, hashlib.sha256).hexdigest().encode()
    return b'camgate_auth=%s.%s' % (payload, mac)


def hs_req(method, path, headers=(), body=None, chromium=True, auth=True):
    h = [b'Host: 127.0.0.1:8080']
    if chromium:
        h += [b'Connection: keep-alive',
              b'sec-ch-ua: "Chromium";v="124", "Not-A.Brand";v="99"',
              b'sec-ch-ua-mobile: ?0',
              b'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 '
              b'(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
              b'sec-ch-ua-platform: "Linux"', b'Accept: */*',
              b'Origin: http://127.0.0.1:8080', b'Sec-Fetch-Site: same-origin',
              b'Sec-Fetch-Mode: cors', b'Sec-Fetch-Dest: empty',
              b'Referer: http://127.0.0.1:8080/', b'Accept-Encoding: gzip, deflate, br, zstd',
              b'Accept-Language: en-US,en;q=0.9']
    if auth:
        h.append(b'Authorization: Bearer ' + HS_TOKEN)
    h += list(headers)
    if body is not None and not any(x.lower().startswith(b'transfer-encoding') for x in h):
        h.append(b'Content-Length: %d' % len(body))
    return (method + b' ' + path + b' HTTP/1.1\r\n' + b''.join(x + b'\r\n' for x in h) +
            b'\r\n' + (body or b''))


def hs_chunked(body, sizes):
    out, i = b'', 0
    for n in sizes:
        out += b'%x\r\n' % n + body[i:i + n] + b'\r\n'
        i += n
    out += b'%x;ext=1\r\n' % (len(body) - i) + body[i:] + b'\r\n' if i < len(body) else b''
    return out + b'0\r\n\r\n'


def hs_ws_frame(payload, opcode=1):
    mask = b'\x37\xfa\x21\x3d'
    n = len(payload)
    head = bytes([0x80 | opcode])
    head += bytes([0x80 | n]) if n < 126 else (bytes([0x80 | 126]) + struct.pack('!H', n))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def http_server():
    t = 'fuzz-http-server'
    with open(os.path.join(DATA, 'sdp', 'chromium-recvonly-video-audio.sdp'), 'rb') as f:
        chromium = f.read()
    with open(os.path.join(DATA, 'sdp', 'firefox-recvonly.sdp'), 'rb') as f:
        firefox = f.read()
    sdp = [b'Content-Type: application/sdp']
    frag_ct = [b'Content-Type: application/trickle-ice-sdpfrag', b'If-Match: *']
    frag = (b'a=ice-ufrag:Vq4z\r\na=ice-pwd:vW2JqDu8dpfhVbTgjq0ZfZ1n\r\nm=audio 9 '
            b'UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:3471623853 1 udp 2122194687 '
            b'd3b1c0f1-1d2e-4a53-9c55-2a8e5b0f4f11.local 61765 typ host generation 0 ufrag '
            b'Vq4z network-id 1\r\n')
    ff_frag = (b'a=ice-ufrag:5c1d2e8a\r\na=ice-pwd:e3f6c4a2b19d8e7f05a1c3b2d4e6f708\r\n'
               b'm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n'
               b'a=candidate:0 1 UDP 2122252543 10.0.0.7 50123 typ host\r\n'
               b'a=end-of-candidates\r\n')
    whep = b'/whep/' + HS_SESSION
    seeds = {
        'chromium-whep-post': hs_req(b'POST', b'/whep', sdp, chromium),
        'whep-post-patch-delete': (
            hs_req(b'POST', b'/whep', sdp, chromium, chromium=False) +
            hs_req(b'PATCH', whep, frag_ct, frag, chromium=False) +
            hs_req(b'DELETE', whep, chromium=False)),
        'whep-firefox-patch-wrong-ufrag': (
            hs_req(b'POST', b'/whep', sdp + [b'Accept: application/sdp'], firefox,
                   chromium=False) +
            hs_req(b'PATCH', whep, frag_ct, frag, chromium=False) +
            hs_req(b'PATCH', whep, frag_ct, ff_frag, chromium=False)),
        'whep-patch-no-session': hs_req(b'PATCH', b'/whep/AbCdEf0123456789', frag_ct, frag),
        'whep-delete-no-session': hs_req(b'DELETE', b'/whep/fz00000000000009'),
        'whep-post-chunked': hs_req(b'POST', b'/whep',
                                    sdp + [b'Transfer-Encoding: chunked', b'User-Agent: curl/7.88.1'],
                                    hs_chunked(firefox, [0x100, 0x3ff]), chromium=False),
        'whep-post-wrong-type': hs_req(b'POST', b'/whep', [b'Content-Type: text/plain'],
                                       b'v=0\r\n'),
        'whep-post-bad-sdp': hs_req(b'POST', b'/whep', sdp, b'v=0\r\nm=video 9 RTP/AVP 0\r\n'),
        'whep-post-over-limit': b''.join(hs_req(b'POST', b'/whep', sdp, firefox, chromium=False)
                                         for _ in range(3)),
        'options-preflight': hs_req(b'OPTIONS', b'/whep', [
            b'Access-Control-Request-Method: POST',
            b'Access-Control-Request-Headers: authorization,content-type'], auth=False),
        'options-preflight-session': hs_req(b'OPTIONS', whep, [
            b'Access-Control-Request-Method: PATCH'], auth=False),
        'get-index-navigation': hs_req(b'GET', b'/', [
            b'Cache-Control: max-age=0', b'Upgrade-Insecure-Requests: 1',
            b'Sec-Fetch-User: ?1', b'Cookie: ' + hs_cookie()], auth=False),
        'get-index-no-credentials': hs_req(b'GET', b'/?x=1', auth=False),
        'get-status': hs_req(b'GET', b'/status'),
        'get-status-cookie-among-others': hs_req(b'GET', b'/status', [
            b'Cookie: theme=dark; ' + hs_cookie() + b'; lang=en'], auth=False),
        # Signed in by cookie: the page's own WHEP viewer; a cookie a day old or more is
        # reissued (Set-Cookie); logging out revokes the sign-in, and its cookie then fails.
        'whep-post-cookie': hs_req(b'POST', b'/whep', sdp + [b'Cookie: ' + hs_cookie()],
                                   chromium, auth=False),
        'get-status-cookie-reissued': hs_req(b'GET', b'/status', [
            b'Cookie: ' + hs_cookie(HS_NOW - 5 * 86400, HS_NOW - 2 * 86400)], auth=False),
        'cookie-logout-revokes': (
            hs_req(b'GET', b'/status', [b'Cookie: ' + hs_cookie()], auth=False) +
            hs_req(b'POST', b'/logout', [b'Cookie: ' + hs_cookie()], b'', auth=False) +
            hs_req(b'GET', b'/status', [b'Cookie: ' + hs_cookie()], auth=False)),
        # Cookies that fail: unused for more than a week, and signed with another key.
        'get-status-cookie-expired': hs_req(b'GET', b'/status', [
            b'Cookie: ' + hs_cookie(HS_NOW - 8 * 86400)], auth=False),
        'get-status-cookie-other-key': hs_req(b'GET', b'/status', [
            b'Cookie: ' + hs_cookie(key=bytes(32))], auth=False),
        'get-metrics-prometheus': hs_req(b'GET', b'/metrics', [
            b'User-Agent: Prometheus/2.45.0',
            b'Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text'
            b';version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
            b'Accept-Encoding: gzip', b'X-Prometheus-Scrape-Timeout-Seconds: 10'],
            chromium=False),
        'get-snapshot': hs_req(b'GET', b'/snapshot.jpg'),
        'login-form': hs_req(b'POST', b'/login', [
            b'Content-Type: application/x-www-form-urlencoded'],
            b'secret=' + HS_TOKEN, auth=False),
        'login-wrong-then-get': (
            hs_req(b'GET', b'/login', auth=False) +
            hs_req(b'POST', b'/login', [b'Content-Type: application/x-www-form-urlencoded'],
                   b'secret=wrong%20guess&next=%2F', auth=False)),
        'logout': hs_req(b'POST', b'/logout', auth=False, body=b''),
        'pipelined-assets': (
            hs_req(b'GET', b'/style.css', chromium=False) +
            hs_req(b'GET', b'/app.js', chromium=False) +
            hs_req(b'HEAD', b'/', chromium=False) +
            hs_req(b'GET', b'/nope', chromium=False) +
            hs_req(b'PUT', b'/status', chromium=False, body=b'x') +
            hs_req(b'GET', b'/status', chromium=False, headers=[b'Connection: close'])),
        'http10-keepalive': (b'GET /status HTTP/1.0\r\nConnection: keep-alive\r\n'
                             b'Authorization: Bearer ' + HS_TOKEN + b'\r\n\r\n'
                             b'GET /call.html HTTP/1.0\r\n\r\n'),
        'expect-continue': hs_req(b'POST', b'/whep', sdp + [b'Expect: 100-continue'], firefox,
                                  chromium=False),
        'absolute-form-target': hs_req(b'GET', b'http://127.0.0.1:8080/status?a=%2F'),
        'percent-encoded-path': hs_req(b'DELETE', b'/whep/%66z0000000000000%31'),
        'rooms-list': hs_req(b'GET', b'/rooms'),
        'oversized-header': hs_req(b'GET', b'/', [b'Cookie: ' + b'a=b; ' * 14000]),
        'many-headers': hs_req(b'GET', b'/status',
                               [b'X-H%d: %s' % (i, b'v' * 40) for i in range(120)]),
        'lf-only': b'GET /status HTTP/1.1\nHost: a\nAuthorization: Bearer ' + HS_TOKEN +
                   b'\n\n',
        'leading-crlf': b'\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
        'obs-fold': b'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  c\r\n\r\n',
        'bad-http09': b'GET /\r\n\r\n',
        'bad-request-line-extra': b'GET / HTTP/1.1 x\r\nHost: a\r\n\r\n',
        'bad-method-space': b'G ET / HTTP/1.1\r\nHost: a\r\n\r\n',
        'bad-version': b'GET / HTTP/2.0\r\nHost: a\r\n\r\n',
        'bad-h2-preface': b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00\x00\x00\x00\x00',
        'bad-tls-hello': bytes.fromhex('160301008c0100008803035f') + bytes(32) +
                         bytes.fromhex('0000020013010100005d0000000e000c0000093132372e302e302e31'),
        'bad-no-host': b'GET / HTTP/1.1\r\n\r\n',
        'bad-two-hosts': b'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
        'bad-space-before-colon': b'GET / HTTP/1.1\r\nHost : a\r\n\r\n',
        'bad-no-colon': b'GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n',
        'bad-content-length': hs_req(b'POST', b'/login', [
            b'Content-Length: 12a', b'Content-Type: application/x-www-form-urlencoded'],
            auth=False) + b'secret=x',
        'bad-content-length-twice': hs_req(b'POST', b'/login', [
            b'Content-Length: 8', b'Content-Length: 9'], auth=False) + b'secret=xy',
        'bad-te-not-chunked': hs_req(b'POST', b'/login', [
            b'Transfer-Encoding: chunked, gzip'], auth=False) + b'8\r\nsecret=x\r\n0\r\n\r\n',
        'bad-chunk-size': hs_req(b'POST', b'/login', [b'Transfer-Encoding: chunked'],
                                 auth=False) + b'zz\r\nsecret=x\r\n0\r\n\r\n',
        'cl-and-te-smuggle': hs_req(b'POST', b'/logout', [
            b'Content-Length: 4', b'Transfer-Encoding: chunked'], auth=False) +
            b'0\r\n\r\nGET /status HTTP/1.1\r\nHost: a\r\n\r\n',
        'truncated-body': hs_req(b'POST', b'/whep', sdp, firefox)[:-100],
        'truncated-head': hs_req(b'GET', b'/status')[:-3],
    }
    # Room signaling: upgrade, join, then camgate's camera is called both ways.
    def msg(j):
        return hs_ws_frame(j)
    offer_json = (b'{"type":"offer","to":"camgate","sdp":"' +
                  firefox.replace(b'\r\n', b'\\r\\n') + b'"}')
    upgrade = hs_req(b'GET', b'/rooms/ws', [
        b'Connection: Upgrade', b'Pragma: no-cache', b'Cache-Control: no-cache',
        b'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) '
        b'Chrome/124.0.0.0 Safari/537.36', b'Upgrade: websocket',
        b'Origin: http://127.0.0.1:8080',
        b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', b'Sec-WebSocket-Version: 13',
        b'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'],
        chromium=False)
    seeds['rooms-ws-offer-to-camgate'] = (
        upgrade + msg(b'{"type":"join","room":"lobby"}') +
        msg(b'{"type":"stream ok","to":"camgate"}') + msg(offer_json) +
        msg(b'{"type":"candidate","to":"camgate","label":0,"id":"0","candidate":'
            b'"candidate:0 1 UDP 2122252543 10.0.0.7 50123 typ host"}') +
        msg(b'{"type":"bye","to":"camgate"}') + hs_ws_frame(b'\x03\xe8', opcode=8))
    seeds['rooms-ws-camgate-calls'] = (
        upgrade + msg(b'{"type":"join","room":"r1"}') + msg(b'{"type":"ping"}') +
        hs_ws_frame(b'hi', opcode=9) + msg(b'{"type":"call","to":"camgate"}') +
        msg(b'{"type":"answer","to":"camgate","sdp":"v=0\\r\\n"}') +
        msg(b'{"type":"leave"}'))
    seeds['rooms-ws-bad-key'] = hs_req(b'GET', b'/rooms/ws', [
        b'Upgrade: websocket', b'Connection: keep-alive, Upgrade',
        b'Sec-WebSocket-Key: short', b'Sec-WebSocket-Version: 13'])
    for n, b in seeds.items():
        w(t, n, b)


if __name__ == '__main__':
    sdp()
    rtcp()
    rtp()
    h264()
    config()
    auth()
    twcc()
    nack()
    http_server()
