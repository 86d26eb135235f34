#!/usr/bin/env bash
# journaled-fs.sh — a throwaway ext4 with a journal (mkfs.ext4's defaults, as a Debian server's
# /var/lib has), loop-mounted, for benches whose daemon files should not live on the host's own
# filesystem. This machine's root ext4 has no journal, and without one ext4 scans recently
# freed inodes on every file it creates (`recently_deleted`), which after a bench has deleted
# tens of thousands of files made creating an outbox message cost about a millisecond.
#
#   journaled-fs.sh start DIR [SIZE]   sparse image DIR/image (default 8G), mounted on DIR/mnt
#                                      (mode 1777); prints MOUNT=DIR/mnt
#   journaled-fs.sh stop DIR           unmounts DIR/mnt and removes the image
#
# Root only (mount, a loop device). Both commands touch nothing outside DIR.
set -euo pipefail
cmd=${1:?usage: journaled-fs.sh start|stop DIR [SIZE]}
dir=${2:?usage: journaled-fs.sh start|stop DIR [SIZE]}
case $cmd in
  start)
    [ "$(id -u)" = 0 ] || { echo "journaled-fs.sh: needs root (mount, loop device)" >&2; exit 1; }
    mkdir -p "$dir/mnt"
    truncate -s "${3:-8G}" "$dir/image"
    mkfs.ext4 -q -F "$dir/image"
    mount -o loop "$dir/image" "$dir/mnt"
    chmod 1777 "$dir/mnt"
    echo "MOUNT=$dir/mnt"
    ;;
  stop)
    if mountpoint -q "$dir/mnt"; then umount "$dir/mnt"; fi
    rm -f "$dir/image"
    rmdir "$dir/mnt" 2>/dev/null || true
    ;;
  *) echo "usage: journaled-fs.sh start|stop DIR [SIZE]" >&2; exit 2 ;;
esac
