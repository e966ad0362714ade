#!/usr/bin/env python3
"""Writes the seed inputs of the transport and flash fuzz targets into fuzz/seeds/<target>/.

Run from the repository root: python3 fuzz/scripts/make_seeds.py
"""
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(__file__), "..", "seeds")


def put(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


# --- http_response: first byte is the cut point --------------------------------------------
put("http_response", "length", bytes([20]) + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
put("http_response", "chunked", bytes([40]) + b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: 1\r\n\r\n")
put("http_response", "range", bytes([60]) + b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 4-7/100\r\n"
    b"Content-Length: 4\r\nConnection: close\r\n\r\nabcd")
put("http_response", "close", bytes([3]) + b"HTTP/1.0 200 OK\r\n\r\nuntil the end")
put("http_response", "redirect", bytes([0]) + b"HTTP/1.1 302 Found\r\nLocation: /v/2\r\nContent-Length: 0\r\n\r\n")


# --- serial_frame: COBS(seq | CBOR payload | crc32c LE) between zeros ---------------------
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def cobs(data):
    out, block = bytearray(), bytearray()
    for b in data:
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out += bytes([255]) + block
                block = bytearray()
    out += bytes([len(block) + 1]) + block
    return bytes(out)


def frame(seq, payload):
    body = bytes([seq]) + payload
    return b"\x00" + cobs(body + struct.pack("<I", crc32c(body))) + b"\x00"


def cbor_uint(n, major=0):
    m = major << 5
    if n < 24:
        return bytes([m | n])
    if n < 0x100:
        return bytes([m | 24, n])
    if n < 0x10000:
        return bytes([m | 25]) + struct.pack(">H", n)
    return bytes([m | 26]) + struct.pack(">I", n)


def cbor_text(s):
    return cbor_uint(len(s), 3) + s.encode()


def cbor_bytes(b):
    return cbor_uint(len(b), 2) + b


def arr(*items):
    return cbor_uint(len(items), 4) + b"".join(items)


msgs = [
    arr(cbor_uint(1), cbor_text("1.0.0")),
    arr(cbor_uint(2), cbor_uint(4096), cbor_uint(1024)),
    arr(cbor_uint(3), cbor_uint(42)),
    arr(cbor_uint(4), cbor_uint(0), cbor_text("1.1.0")),
    arr(cbor_uint(16), cbor_text("1.1.0"), cbor_uint(262144), cbor_bytes(bytes(range(16))), b"\xf6"),
    arr(cbor_uint(17)),
    arr(cbor_uint(18), cbor_uint(4096), cbor_bytes(b"\x00\x01chunk\x00")),
    arr(cbor_uint(19), cbor_uint(3)),
    arr(cbor_uint(20), cbor_uint(1), cbor_uint(8192)),
]
put("serial_frame", "all_messages", b"".join(frame(i, m) for i, m in enumerate(msgs)))
put("serial_frame", "garbage_then_frame", b"\x13\x37\xff" + frame(7, msgs[6]))
put("serial_frame", "offer_payload", msgs[4])


# --- pcp_stream: FFFE | ver | code | check | len | data ------------------------------------
def ccitt_table():
    t = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else c << 1
            c &= 0xFFFF
        t.append(c)
    return t


TABLE = ccitt_table()


def pcp_crc(data):
    crc = 0
    for b in data:
        crc = (crc >> 8) ^ TABLE[(crc ^ b) & 0xFF]
    return crc


def pcp(code, data):
    head = struct.pack(">HBBHH", 0xFFFE, 1, code, 0, len(data))
    crc = pcp_crc(head + data)
    return struct.pack(">HBBHH", 0xFFFE, 1, code, crc, len(data)) + data


version = b"V2.0".ljust(16, b"\x00")
frames = [
    pcp(19, b""),
    pcp(20, version + struct.pack(">HHH", 500, 12, 0xBEEF)),
    pcp(21, b"\x00" + struct.pack(">H", 3) + b"block three data"),
    pcp(22, b"\x00"),
    pcp(23, b""),
    pcp(24, b"\x00"),
    pcp(19, b"\x00" + version),
    pcp(21, version + struct.pack(">H", 11)),
]
put("pcp_stream", "all_frames", b"".join(frames))
put("pcp_stream", "noise_between", b"\xff\xfe\x01".join(frames[:3]))

# --- edge_check_version --------------------------------------------------------------------
put("edge_check_version", "update", b'{"assetId":"999999","version":"v2.0.0.1","code":1,"desc":"has update",'
    b'"signMethod":"MD5","sign":"0123456789abcdef0123456789abcdef","downloadurl":"/version/15912345678",'
    b'"fileSize":262144}')
put("edge_check_version", "update_text", b'{"assetId":"999999","version":"v2.0.0.1","code":"1",'
    b'"signMethod":"SHA256","sign":"' + b"ab" * 32 + b'","downloadurl":"http://h:8080/version/1","fileSize":"12"}')
put("edge_check_version", "none", b'{"assetId":"999999","code":0,"desc":"no update"}')


# --- journal_open: first byte picks the part (0: write size 1, 0xFF erased), 4 x 512 B ----
def sector_header(gen):
    head = b"OTAJ" + bytes([1, 0, 0, 0]) + struct.pack("<I", gen)
    return head + struct.pack("<I", zlib.crc32(head))


def record(kind, seq, payload):
    body = bytes([0xA5, kind]) + struct.pack("<HI", len(payload), seq) + payload
    return body + struct.pack("<I", zlib.crc32(body))


def sector(gen, records):
    data = sector_header(gen) + b"".join(records)
    return data + b"\xff" * (512 - len(data))


recs = [record(1, 0, b"boot state"), record(3, 1, bytes(range(40))), record(32, 2, b"app"),
        record(3, 3, b"newer checkpoint")]
put("journal_open", "two_sectors", bytes([0]) + sector(1, recs[:2]) + sector(2, recs[2:]))
put("journal_open", "torn_tail", bytes([0]) + sector(5, recs)[:200] + b"\x12" * 312)
put("journal_open", "max_generation", bytes([0]) + sector(0xFFFFFFFF, recs) + sector(0xFFFFFFFE, recs[:1]))
put("journal_open", "max_seq", bytes([0]) + sector(1, [record(1, 0xFFFFFFFF, b"x"), record(2, 0, b"y")]))
