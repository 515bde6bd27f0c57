#!/usr/bin/env bash
# Installs every Debian package ghostpod's build, tests and demo need. Idempotent: does
# nothing (and needs no network) when all are present.
set -euo pipefail

packages=(
  cmake g++ ninja-build pkg-config       # build
  libsodium-dev libargon2-dev libssl-dev # vault crypto; OpenSSL for the PBKDF2 peer in benchmarks
  nlohmann-json3-dev libcurl4-openssl-dev libseccomp-dev libcap-dev
  catch2                                 # unit tests (v2, catch2/catch.hpp)
  age util-linux passwd coreutils        # tests: the real age binary, unshare, useradd/runuser
  python3                                # tests: the independent format reader, probes inside the ghost
  tmux                                   # tests: an interactive shell in the ghost on a real terminal
  python3-yaml vim                       # tests: export --format yaml read back; secret edit with the real vim
  zsh                                    # tests: the zsh completion parses
  bubblewrap hyperfine                   # tests/bench/bench_session.sh: a peer, and the timer
  openssl ca-certificates                # tests and demo: a throwaway CA for the local Infisical server
  curl time                              # tests/bench: the floor a pull is compared with; curl's peak RSS
  libyaml-cpp-dev zlib1g-dev             # certs: talosconfig/kubeconfig YAML; import tazpod: gzip
  python3-cryptography                   # tests: an independent TazPod archive writer
  dpkg-dev fakeroot file                 # tests: the CPack .deb is built and inspected
  # tests/fuzz (scripts/fuzz.sh): clang, and its libFuzzer + sanitizer runtimes, which clang
  # only recommends (bookworm's clang is 14); ccache for the extra build variant.
  clang libclang-rt-14-dev ccache
)
# tests: the real kubectl reads the ghost's kubeconfig. Any kubectl will do; Debian's package
# conflicts with the kubectl some images ship, so it is installed only when none is present.
if ! command -v kubectl >/dev/null 2>&1; then packages+=(kubernetes-client); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
