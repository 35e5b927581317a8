#!/usr/bin/env bash
# Rebuilds the ext3 images the block scenarios mount (e2fsprogs 1.47.0 made the checked-in
# ones). Fixed UUID, hash seed, clock and file times make the output reproducible for one
# e2fsprogs version; `e2fsck -fyD` then indexes /dir (an htree directory with the
# 1 KiB block size). Contents:
#   /hello.txt (12 bytes, 2 links: /sub/hard-link), /big (300 KiB: indirect blocks),
#   /sparse (a block at 70 MiB: triple indirect on 1 KiB blocks, holes elsewhere),
#   /dir/f1 … /dir/f300, /fast-link → hello.txt, /slow-link → a 99-byte target,
#   /sub/deep/file.
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
src="$work/src"
mkdir -p "$src/dir" "$src/sub/deep"
printf 'hello, ext3\n' > "$src/hello.txt"
for i in $(seq 1 300); do printf 'file %d\n' "$i" > "$src/dir/f$i"; done
python3 -c "
open('$src/big','wb').write(bytes((i*7+i//1024)&255 for i in range(300*1024)))
f=open('$src/sparse','wb'); f.seek(70*1024*1024); f.write(b'tail of a triple-indirect file\n'); f.close()
"
ln -s hello.txt "$src/fast-link"
ln -s "sub/deep/$(printf 'x%.0s' $(seq 1 90))" "$src/slow-link"
printf 'deep\n' > "$src/sub/deep/file"
ln "$src/hello.txt" "$src/sub/hard-link"
find "$src" -exec touch -h -d @1446422400 {} +
export E2FSPROGS_FAKE_TIME=1446422400
for bs in 1024 4096; do
    img="$work/ext3-$bs.img"
    mke2fs -q -F -t ext3 -b "$bs" -U 6b3c0d7e-4300-4a43-9000-000000000043 \
        -E hash_seed=6b3c0d7e-4300-4a43-9000-0000000000aa -d "$src" "$img" 16M
    e2fsck -fyD "$img" >/dev/null 2>&1 || true
    e2fsck -fn "$img" >/dev/null
    gzip -9n -c "$img" > "$out/ext3-$bs.img.gz"
done
# ext4-nojournal-1m.img.gz: a 1 MiB ext4 without a journal (extents and flex_bg are
# incompatible with ext3): mounting it as ext3 fails on its features.
img="$work/ext4-nojournal-1m.img"
mke2fs -q -F -t ext4 -b 1024 -O ^has_journal -U 6b3c0d7e-4300-4a43-9000-000000000044 \
    -E hash_seed=6b3c0d7e-4300-4a43-9000-0000000000ab "$img" 1M
gzip -9n -c "$img" > "$out/ext4-nojournal-1m.img.gz"
