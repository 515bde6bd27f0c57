#!/usr/bin/env python3
"""Writes the seeds of tests/fuzz/fuzz_protocol.cpp into corpus/protocol/: one frame of each
message kind as sandbox/wire.hpp lays it out ([u8 version 1][u16 kind][u32 length][payload],
little-endian; strings and lists with u32 lengths), with tabs, newlines and NULs in the strings.
Used once to generate the corpus; rerun after a message changes.
Usage: make_protocol_seeds.py OUTDIR
"""
import os
import struct
import sys


def u8(v): return struct.pack("<B", v)
def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v)
def i32(v): return struct.pack("<i", v)
def s(v): b = v.encode() if isinstance(v, str) else v; return u32(len(b)) + b
def strings(l): return u32(len(l)) + b"".join(s(x) for x in l)
def frame(kind, payload): return u8(1) + struct.pack("<H", kind) + u32(len(payload)) + payload


def view():
    return (s("/run/user/1000/ghostpod/a.ghost") + strings(["kube/config", "aws/credentials", "we\tird\nname"]) +
            u32(2) + s("kube/config") + s("/home/u/.kube/config") + s("aws/credentials") + s("/home/u/.aws/cre\tdentials") +
            u32(2) + s("kube/config") + s("KUBECONFIG") + s("/home/u/.kube/config") + u8(0) +
            s("api/token") + s("API_TOKEN") + s("/run/a.ghost/api/token") + u8(1))


def error():
    return u8(7) + i32(13) + s("save the session's changes") + s("the vault changed\n") + s("ghostpod save --force")


SEEDS = {
    # session requests (pod/session/protocol.hpp Kind)
    "attach": frame(1, b""), "status": frame(2, b""), "lock_discard": frame(3, u8(1)), "save_force": frame(4, u8(1)),
    "certs": frame(5, b""), "pull": frame(6, s('{"target":{"base_url":"https://127.0.0.1:8443"}}')),
    "spawn": frame(7, s("terraform") + strings(["aws/credentials"])),
    "register": frame(8, s("terraform") + strings(["aws/credentials", "x\x00y"])),
    # session replies
    "attached_full": frame(101, u8(1) + s("") + view()), "attached_profile": frame(101, u8(3) + s("terraform") + view()),
    "status_reply": frame(102, s('{"holder_pid":1}')), "locked": frame(103, b""), "saved": frame(104, s('{"saved":[]}')),
    "certs_reply": frame(105, s("[]")), "progress": frame(106, s("pulling prod:/ from https://127.0.0.1")),
    "pulled": frame(107, u64(10000) + s("server") + u64(1700000000) + strings(["skipped 2 key(s)"])),
    "spawned": frame(108, b""), "registered": frame(109, b""), "started": frame(110, b""),
    "error": frame(0xFFFF, error()),
    # sandbox messages (sandbox/messages.hpp): ghost init and spawned commands
    "place": frame(2, s("/run/a.ghost/kube/config") + s("/home/u/.kube/config")),
    "unplace": frame(3, s("/home/u/.kube/config")),
    "spawn_view": frame(4, s("/run/a.ghost") + strings(["aws/credentials"]) + u32(1) + s("aws/credentials") + s("/home/u/.aws/credentials")),
    "command": frame(1, strings(["sh", "-c", "printf '\\t\\n'; env"]) + s("/home/u") + u64(42)),
    "signal": frame(2, i32(2)), "exited": frame(3, i32(130)),
}

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
