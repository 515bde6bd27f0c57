#!/usr/bin/env bash
# Makes the front's copy of libsodium.a (usage: front_sodium.sh NM OBJCOPY libsodium.a libargon2.a OUT).
# Debian's libsodium.a carries its own Argon2 core under the reference library's global names
# (argon2_ctx, fill_memory_blocks, blake2b_long, ...), so the two archives cannot be linked into
# one static program as they are (the linker would take libsodium's argon2_ctx, whose context
# differs, for the vault's KDF). Every such name is renamed inside the copy (its definitions and
# its own uses alike), so libsodium keeps its code and the vault's KDF gets libargon2's. Any
# failure, or a copy that still defines a shared name, fails the build.
set -euo pipefail
nm_tool=$1 objcopy_tool=$2 sodium=$3 argon2=$4 out=$5
defined() {  # ARCHIVE FILE: the archive's defined global names, sorted, into FILE
    "$nm_tool" -g --defined-only "$1" >"$2.nm" || { echo "front_sodium.sh: $nm_tool $1 failed" >&2; exit 1; }
    awk 'NF == 3 { print $3 }' "$2.nm" | sort -u >"$2"
    rm -f "$2.nm"
}
defined "$sodium" "$out.sodium"
defined "$argon2" "$out.argon2"
comm -12 "$out.sodium" "$out.argon2" | awk '{ print $1, "ghostpod_sodium_" $1 }' >"$out.syms"
if ! grep -q '^argon2_ctx ' "$out.syms"; then
  echo "front_sodium.sh: $sodium and $argon2 share no argon2_ctx: not the archives this script knows" >&2
  exit 1
fi
"$objcopy_tool" --redefine-syms="$out.syms" "$sodium" "$out.tmp"
defined "$out.tmp" "$out.renamed"
if [[ -n $(comm -12 "$out.renamed" "$out.argon2") ]]; then
  echo "front_sodium.sh: the renamed copy still defines names of $argon2" >&2
  exit 1
fi
rm -f "$out.sodium" "$out.argon2" "$out.renamed"
mv "$out.tmp" "$out"
