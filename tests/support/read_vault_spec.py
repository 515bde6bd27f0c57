#!/usr/bin/env python3
# An independent reader of the vault format, written from man/ghostpod-vault.5 alone (ctypes
# over libsodium and libargon2, no ghostpod code). tests/integration/test_format_spec.cpp runs
# it on vaults the real binary wrote: if the man page and the code drift apart, it fails.
# Usage: read_vault_spec.py VAULT pw|rk   (passphrase or recovery key on stdin, one line)
# Prints JSON metadata and the SHA-256 of each value; never a value.
import ctypes, struct, sys, math
so = ctypes.CDLL("libsodium.so.23"); ar = ctypes.CDLL("libargon2.so.1")
assert so.sodium_init() >= 0
B = ctypes.create_string_buffer
def b2b(out_len, msg, key=b"", salt=None, personal=None):
    out = B(out_len)
    if salt is None:
        assert so.crypto_generichash(out, ctypes.c_size_t(out_len), msg, ctypes.c_ulonglong(len(msg)), key or None, ctypes.c_size_t(len(key))) == 0
    else:
        assert so.crypto_generichash_blake2b_salt_personal(out, ctypes.c_size_t(out_len), msg or None, ctypes.c_ulonglong(len(msg)), key, ctypes.c_size_t(len(key)), salt, personal) == 0
    return out.raw
def argon2id(pw, salt, t, m, p):
    out = B(32)
    rc = ar.argon2id_hash_raw(ctypes.c_uint32(t), ctypes.c_uint32(m), ctypes.c_uint32(p), pw, ctypes.c_size_t(len(pw)), salt, ctypes.c_size_t(len(salt)), out, ctypes.c_size_t(32))
    assert rc == 0, rc
    return out.raw
def aead_open(c, ad, nonce, key):
    m = B(len(c)); mlen = ctypes.c_ulonglong()
    rc = so.crypto_aead_xchacha20poly1305_ietf_decrypt(m, ctypes.byref(mlen), None, c, ctypes.c_ulonglong(len(c)), ad, ctypes.c_ulonglong(len(ad)), nonce, key)
    return m.raw[:mlen.value] if rc == 0 else None
def b32decode_rk(text):
    alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    chars = [c for c in text.upper() if c not in "- \t\r\n"]
    assert len(chars) == 52
    bits = "".join(format(alpha.index(c), "05b") for c in chars)
    assert bits[256:] == "0000"
    return int(bits[:256], 2).to_bytes(32, "big")

def read(path, passphrase=None, recovery=None):
    f = open(path, "rb").read()
    assert f[:8] == b"GHOSTPOD" and len(f) >= 64
    ver, H, n = struct.unpack_from("<HHB", f, 8)
    assert ver == 1 and 1 <= n <= 8 and f[13:16] == b"\0\0\0" and f[60:64] == b"\0"*4
    assert H == 96 + 104*n and len(f) >= H
    vid = f[16:32]; created, updated, gen, count = struct.unpack_from("<QQQI", f, 32)
    binding = f[:8] + struct.pack("<H", ver) + vid
    dek = None
    for i in range(n):
        s = f[64+104*i: 64+104*(i+1)]
        typ, kdf, prof, res, t, m, p = struct.unpack_from("<BBBBIII", s, 0)
        assert res == 0 and prof <= 3
        salt, nonce, wrapped = s[16:32], s[32:56], s[56:104]
        if typ == 1:
            assert kdf == 1 and 1 <= t <= 64 and 8192 <= m <= 4194304 and 1 <= p <= 16 and m >= 8*p
            if passphrase is None: continue
            kek = argon2id(passphrase, salt, t, m, p)
        else:
            assert typ == 2 and kdf == 2 and t == m == p == 0 and prof == 0
            if recovery is None: continue
            kek = b2b(32, b"ghostpod recovery keyslot v1" + salt, key=recovery)
        dek = aead_open(wrapped, binding + s[:32], nonce, kek)
        if dek: break
    assert dek and len(dek) == 32, "wrong credential"
    ctx = b"ghostpod" + b"\0"*8
    sub = lambda i: b2b(32, b"", key=dek, salt=struct.pack("<Q", i) + b"\0"*8, personal=ctx)
    kmac, kpay = sub(1), sub(2)
    # cross-check against crypto_kdf_derive_from_key
    o = B(32); so.crypto_kdf_derive_from_key(o, ctypes.c_size_t(32), ctypes.c_uint64(1), b"ghostpod", dek); assert o.raw == kmac
    assert b2b(32, f[:H-32], key=kmac) == f[H-32:H], "header MAC"
    S = len(f) - H; assert S >= 45
    Bn = S - 24; F = 65553; C = -(-Bn // F); last = Bn - (C-1)*F; assert last > 17
    P = Bn - 17*C; assert P <= 512 << 20
    ad = binding + struct.pack("<Q", gen)
    st = B(so.crypto_secretstream_xchacha20poly1305_statebytes())
    assert so.crypto_secretstream_xchacha20poly1305_init_pull(st, f[H:H+24], kpay) == 0
    plain = b""; off = H + 24
    for i in range(C):
        clen = F if i < C-1 else last
        c = f[off:off+clen]; m = B(clen); mlen = ctypes.c_ulonglong(); tag = ctypes.c_ubyte()
        assert so.crypto_secretstream_xchacha20poly1305_pull(st, m, ctypes.byref(mlen), ctypes.byref(tag), c, ctypes.c_ulonglong(clen), ad, ctypes.c_ulonglong(len(ad))) == 0, "chunk %d" % i
        assert (tag.value == 3) == (i == C-1) and tag.value in (0, 3)
        plain += m.raw[:mlen.value]; off += clen
    assert len(plain) == P
    (N,) = struct.unpack_from("<I", plain, 0); assert N == count
    pos = 4; entries = []
    for i in range(N):
        kind, r, mode, upd, a, b, c = struct.unpack_from("<BBHQHHI", plain, pos); pos += 20
        assert 1 <= kind <= 4 and r == 0 and mode <= 0o7777
        name = plain[pos:pos+a]; pos += a; src = plain[pos:pos+b]; pos += b; val = plain[pos:pos+c]; pos += c
        assert len(val) == c
        entries.append((name.decode(), kind, oct(mode), upd, src.decode(), val))
    assert pos == len(plain)
    return dict(n=n, gen=gen, count=count, C=C, P=P, entries=entries)

if __name__ == "__main__":
    import hashlib, json
    path, how = sys.argv[1:3]
    cred = sys.stdin.buffer.readline().rstrip(b"\n")
    r = read(path, passphrase=cred if how == "pw" else None,
             recovery=b32decode_rk(cred.decode()) if how == "rk" else None)
    print(json.dumps({"keyslots": r["n"], "generation": r["gen"], "chunks": r["C"], "plaintext_bytes": r["P"],
                      "entries": [{"name": e[0], "kind": e[1], "mode": e[2], "updated": e[3], "source": e[4],
                                   "sha256": hashlib.sha256(e[5]).hexdigest()} for e in r["entries"]]}))
