#!/usr/bin/env python3
"""Writes a seed for tests/fuzz/fuzz_vault.cpp: a real vault's header followed by a plaintext
payload laid out as ghostpod-vault(5) describes it (the harness seals it with a fixed key).

Usage: make_vault_seed.py VAULT OUT [NAME=VALUE|NAME@KIND=VALUE ...]

VAULT is a vault written by the ghostpod binary; its header is kept byte for byte except the
entry count, set to the number of entries given (the harness does not check the header MAC).
Used once to generate tests/fuzz/corpus/vault/; the values are throwaway test strings.
"""
import struct
import sys

KINDS = {"file": 1, "env": 2, "identity": 3, "token-cache": 4}


def main():
    vault, out, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
    data = open(vault, "rb").read()
    header_len = struct.unpack_from("<H", data, 10)[0]
    header = bytearray(data[:header_len])
    struct.pack_into("<I", header, 56, len(specs))
    payload = struct.pack("<I", len(specs))
    for spec in specs:
        name, value = spec.split("=", 1)
        kind = "file"
        if "@" in name:
            name, kind = name.split("@", 1)
        source = b"stdin"
        fields = struct.pack("<BBHQHHI", KINDS[kind], 0, 0o400, 1767225600, len(name), len(source), len(value))
        payload += fields + name.encode() + source + value.encode()
    open(out, "wb").write(bytes(header) + payload)


if __name__ == "__main__":
    main()
