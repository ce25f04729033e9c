#!/usr/bin/env bash
# Installs, as root, the Debian packages the tests use; a quick no-op when all are present.
#   skopeo, umoci, tar      build and read test archives
#   busybox-static          /bin/busybox, the binary inside the test images
#   python3-docker          docker-py for /usr/bin/python3
#   zstd                    zstd-compressed layers
#   xz-utils, bzip2         xz and bzip2 bodies (ladingd runs these commands to read them)
#   docker-registry, docker.io   a registry and a reference dockerd for oracle tests
#   openssl, apache2-utils       test CA and token keys; bcrypt htpasswd files for the registry
#   postgresql                   PostgreSQL 15 (initdb, pg_ctl) for the metadata on PostgreSQL (test/support/postgres.ts)
#   chromium                     the explorer's browser tests (driven by playwright-core, which downloads no browser)
set -euo pipefail

packages=(skopeo umoci tar busybox-static python3-docker zstd xz-utils bzip2 docker-registry docker.io openssl apache2-utils postgresql chromium)

missing=()
for p in "${packages[@]}"; do
  # Read the whole stanza first: grep -q closing a pipe early would fail it under pipefail.
  status=$(dpkg -s "$p" 2>/dev/null || true)
  if ! grep -q '^Status: install ok installed$' <<<"$status"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-test-deps: all present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: run as root to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
