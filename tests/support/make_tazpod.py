#!/usr/bin/env python3
"""Writes a TazPod vault (vault.tar.aes) for tests, independently of ghostpod's reader.

Format, as TazPod writes it: 32-byte PBKDF2 salt, 12-byte nonce, then AES-256-GCM ciphertext
with its 16-byte tag appended (no associated data); the key is PBKDF2-HMAC-SHA256 of the
passphrase and salt, 100000 iterations, 32 bytes; the plaintext is gzip(tar).

Usage: make_tazpod.py OUT [--passphrase-fd N] < SPEC.json

The passphrase is the first line read from descriptor N (default: the first line of stdin);
the JSON spec follows on stdin:
  {"format": "pax" | "gnu" | "ustar",          (default pax, what Go's archive/tar writes)
   "truncate": BYTES,                          (optional: keep only the first BYTES of OUT)
   "entries": [{"name": "a/b.txt", "type": "file", "hex": "…", "mode": 384},
               {"name": "d", "type": "dir"},
               {"name": "l", "type": "symlink" | "hardlink", "target": "a/b.txt"},
               {"name": "f", "type": "fifo" | "chardev" | "blockdev"}]}
Secret test values never reach argv or a temporary file; only the encrypted archive is written.
"""
import gzip
import io
import json
import os
import sys
import tarfile
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

FORMATS = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT}
TYPES = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
         "fifo": tarfile.FIFOTYPE, "chardev": tarfile.CHRTYPE, "blockdev": tarfile.BLKTYPE}


def read_line(stream):
    line = bytearray()
    while True:
        c = stream.read(1)
        if not c or c == b"\n":
            return bytes(line)
        line += c


def build_tar(spec):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=FORMATS[spec.get("format", "pax")]) as tar:
        for e in spec["entries"]:
            # TarInfo keeps names as given ("/etc/x", "../x"); tar.add() would clean them.
            info = tarfile.TarInfo(e["name"])
            info.mtime = int(time.time())
            info.mode = e.get("mode", 0o600)
            kind = e.get("type", "file")
            if kind == "file":
                data = bytes.fromhex(e.get("hex", ""))
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = TYPES[kind]
            info.linkname = e.get("target", "")
            if kind in ("chardev", "blockdev"):
                info.devmajor, info.devminor = 1, 3
            tar.addfile(info)
    return buffer.getvalue()


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    out = args[0]
    stdin = sys.stdin.buffer
    if "--passphrase-fd" in args:
        fd = int(args[args.index("--passphrase-fd") + 1])
        with os.fdopen(fd, "rb", buffering=0) as f:
            passphrase = read_line(f)
    else:
        passphrase = read_line(stdin)
    if passphrase.endswith(b"\r"):
        passphrase = passphrase[:-1]
    spec = json.loads(stdin.read())

    plaintext = gzip.compress(build_tar(spec))
    salt, nonce = os.urandom(32), os.urandom(12)
    key = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=100000).derive(passphrase)
    archive = salt + nonce + AESGCM(key).encrypt(nonce, plaintext, None)
    if "truncate" in spec:
        archive = archive[:spec["truncate"]]
    with open(out, "wb") as f:
        f.write(archive)
    print(len(archive))


if __name__ == "__main__":
    main()
