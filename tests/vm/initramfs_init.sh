#!/bin/sh
# /init of the harness initramfs (busybox): mount the host's root read-only over virtio-9p,
# put a tmpfs overlay on it so the guest may write, mount the results share, and hand over to
# the stage-2 script named on the kernel command line (bs_stage2=...). Built by harness.py.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules/order); do insmod /modules/$m || echo "initramfs: insmod $m failed"; done
fail() { echo "initramfs: $*"; echo o > /proc/sysrq-trigger; sleep 60; }
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /lower || fail "cannot mount hostroot"
mount -t tmpfs -o size=256m tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot || fail "cannot mount overlay"
mkdir -p /newroot/mnt/results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /newroot/mnt/results || fail "cannot mount results"
for word in $(cat /proc/cmdline); do
  case "$word" in bs_stage2=*) STAGE2="${word#bs_stage2=}" ;; esac
done
mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
exec switch_root /newroot /bin/sh "$STAGE2"
