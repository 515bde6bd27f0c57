#!/usr/bin/env bash
# Makes the front's copy of libsodium.a (usage: front_sodium.sh NM OBJCOPY libsodium.a libargon2.a OUT).
# Debian's libsodium.a carries its own Argon2 core under the reference library's global names
# (argon2_ctx, fill_memory_blocks, blake2b_long, ...), so the two archives cannot be linked into
# one static program as they are. Every such name is renamed inside the copy (its definitions and
# its own uses alike), so libsodium keeps its code and the vault's KDF gets libargon2's.
set -euo pipefail
nm_tool=$1 objcopy_tool=$2 sodium=$3 argon2=$4 out=$5
defined() { "$nm_tool" -g --defined-only "$1" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u; }
list=$out.syms
comm -12 <(defined "$sodium") <(defined "$argon2") | awk '{ print $1, "ghostpod_sodium_" $1 }' >"$list"
[[ -s $list ]] || echo "front_sodium.sh: no shared names (a libsodium without its own Argon2 core?)" >&2
"$objcopy_tool" --redefine-syms="$list" "$sodium" "$out.tmp"
mv "$out.tmp" "$out"
