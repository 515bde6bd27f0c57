# A Debian package of the installed files (the binary, the man pages, the shell completions):
#   cpack --config CPackConfig.cmake -B <dir>   (from the build tree)  →  ghostpod_<version>_<arch>.deb
# Runtime dependencies are computed by dpkg-shlibdeps from the libraries the binary links, so they
# name this distribution's packages (libsodium23, libargon2-1, libcurl4, libyaml-cpp0.7, ...).
# Without dpkg-shlibdeps, the Debian 12 names below are declared instead.

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "ghostpod")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "ghostpod developers")
set(CPACK_PACKAGE_CONTACT "ghostpod developers <ghostpod@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keeps an operator's secrets in an encrypted vault and in RAM only")
# The .deb's Description: the summary as its first line, then this text.
set(CPACK_PACKAGE_DESCRIPTION
    "ghostpod keeps secrets (kubeconfigs, talosconfigs, age keys, cloud credentials, Infisical
machine identities) in one encrypted vault file, and on unlock materialises them only inside a
private user/mount/pid namespace on memory that is never swapped, for the tools that need them.
It pulls further secrets from Infisical. No daemon, no root.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES TRUE)
set(CPACK_SOURCE_IGNORE_FILES "/build[^/]*/" "/\\\\.git/")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION "utils")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# sops and age read the identities ghostpod generates and materialises; useful, not required.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "age, sops")

find_program(GHOSTPOD_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(GHOSTPOD_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6, libstdc++6, libgcc-s1, libsodium23, libargon2-1, libcurl4, libseccomp2, libyaml-cpp0.7, zlib1g, libssl3")
endif()

include(CPack)
