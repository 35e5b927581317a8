#!/usr/bin/env bash
# Rebuilds the base images of the `ext4_image` fuzz target (e2fsprogs 1.47.0 made the
# checked-in ones). Fixed UUID, hash seed, clock and file times make the output
# reproducible for one e2fsprogs version. Each image holds:
#   /hello.txt (2 links: /sub/hard-link), /big (indirect and, on 1 KiB blocks, double
#   indirect blocks), /sparse (a few blocks far out: triple indirect, holes elsewhere),
#   /dir/… (an htree directory after `e2fsck -fyD`), /fast-link, /slow-link, /sub/deep/file,
#   /dev0 (a character device), xattrs in the inode (/hello.txt) and in a block (/big),
#   an orphan (inode on s_last_orphan with no links and no name), and a journal holding
#   one committed, unreplayed transaction (RECOVER set): the blocks that `mkdir /jdir`
#   and `write /jfile` changed, logged with debugfs `jo`/`jw`/`jc` onto the image from
#   before those commands, so replaying it yields that later state.
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export E2FSPROGS_FAKE_TIME=1446422400
for bs in 1024 4096; do
    src="$work/src-$bs"
    mkdir -p "$src/dir" "$src/sub/deep"
    printf 'hello, ext3\n' > "$src/hello.txt"
    for i in $(seq 1 150); do : > "$src/dir/a-rather-long-file-name-to-fill-blocks-$i"; done
    if [ "$bs" = 1024 ]; then big=$((300 * 1024)); far=$((70 * 1024 * 1024)); else big=$((80 * 1024)); far=$((4400 * 1024 * 1024)); fi
    python3 -c "
open('$src/big','wb').write(bytes((i*7+i//1024)&255 for i in range($big)))
f=open('$src/sparse','wb'); f.write(b'head'); f.seek(200*1024); f.write(b'middle'); f.seek($far); f.write(b'tail of a far sparse file\n'); f.close()
"
    ln -s hello.txt "$src/fast-link"
    ln -s "sub/deep/$(printf 'x%.0s' $(seq 1 90))" "$src/slow-link"
    printf 'deep\n' > "$src/sub/deep/file"
    ln "$src/hello.txt" "$src/sub/hard-link"
    printf 'about to be orphaned\n' > "$src/orphan"
    find "$src" -exec touch -h -d @1446422400 {} +
    if [ "$bs" = 1024 ]; then size=3M; else size=8M; fi
    img="$work/ext3-$bs.img"
    mke2fs -q -F -t ext3 -b "$bs" -I 256 -N 512 -U 6b3c0d7e-4300-4a43-9000-000000000043 \
        -E hash_seed=6b3c0d7e-4300-4a43-9000-0000000000aa -d "$src" "$img" "$size" 2>/dev/null
    e2fsck -fyD "$img" >/dev/null 2>&1 || true
    orphan=$(debugfs -R "stat /orphan" "$img" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p')
    head -c 700 /dev/zero | tr '\0' 'v' > "$work/val"
    debugfs -w -f - "$img" >/dev/null 2>&1 <<CMDS
ea_set /hello.txt user.small hello
ea_set -f $work/val /big user.big
ea_set /big trusted.t tv
mknod dev0 c 4 5
unlink /orphan
sif <$orphan> links_count 0
ssv last_orphan $orphan
CMDS
    # The later state, then its changed blocks logged onto the earlier one.
    cp "$img" "$work/later"
    printf 'written through the journal\n' > "$work/jdata"
    debugfs -w -f - "$work/later" >/dev/null 2>&1 <<CMDS
mkdir /jdir
write $work/jdata /jdir/jfile
CMDS
    blocks=$(python3 -c "
a=open('$img','rb').read(); b=open('$work/later','rb').read(); bs=$bs
d=[i for i in range(len(a)//bs) if a[i*bs:(i+1)*bs]!=b[i*bs:(i+1)*bs]]
open('$work/payload','wb').write(b''.join(b[i*bs:(i+1)*bs] for i in d))
print(','.join(map(str,d)))")
    debugfs -w -f - "$img" >/dev/null 2>&1 <<CMDS
jo
jw -b $blocks $work/payload
jc
CMDS
    debugfs -R "logdump" "$img" 2>/dev/null | grep -q "commit block" || { echo "no commit in the log of $img" >&2; exit 1; }
    dumpe2fs -h "$img" 2>/dev/null | grep -q needs_recovery || { echo "$img does not need recovery" >&2; exit 1; }
    echo "ext3-$bs: journalled blocks $blocks, orphan inode $orphan"
    gzip -9n -c "$img" > "$out/ext3-$bs.img.gz"
done
