#!/bin/sh
# Writes a docker-archive of a one-layer busybox image to stdout, made from the machine's own
# statically linked busybox (Debian's busybox-static), so a first image needs no registry:
#   scripts/busybox-image.sh | docker load
#   scripts/busybox-image.sh my/busybox:1 > busybox.tar
# Needs only sh, tar and sha256sum.
set -eu

name=${1:-busybox:latest}
busybox=${BUSYBOX:-/bin/busybox}
if ! "$busybox" --help 2>&1 | head -n 1 | grep -q BusyBox; then
  echo "busybox-image: $busybox is not busybox (apt-get install busybox-static, or set BUSYBOX)" >&2
  exit 1
fi

case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  armv7l) arch=arm ;;
  *) arch=$(uname -m) ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/out"
cp "$busybox" "$work/rootfs/bin/busybox"
ln -s busybox "$work/rootfs/bin/sh"

# Fixed owner and times, so the same busybox always gives the same layer digest.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
  -C "$work/rootfs" -cf "$work/layer.tar" bin
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/out/$diff_id"
mv "$work/layer.tar" "$work/out/$diff_id/layer.tar"

cat > "$work/config.json" <<EOF
{"architecture":"$arch","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"scripts/busybox-image.sh","comment":"$busybox"}]}
EOF
config_hex=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/out/$config_hex.json"

printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' \
  "$config_hex" "$name" "$diff_id" > "$work/out/manifest.json"

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/out" -cf - .
