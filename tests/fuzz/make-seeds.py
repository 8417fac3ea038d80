#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Regenerates the hand-made seed inputs of tests/fuzz/corpus/ (run from any directory).
# Browser SDPs are copied from tests/data/sdp; H.264 AUs are cut from tests/data/h264.
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data')
CORPUS = os.path.join(HERE, 'corpus')


def w(target, name, b):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), 'wb') as f:
        f.write(b)


def sdp():
    d = os.path.join(DATA, 'sdp')
    for n in sorted(os.listdir(d)):
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


if __name__ == '__main__':
    sdp()
    rtcp()
    rtp()
    h264()
