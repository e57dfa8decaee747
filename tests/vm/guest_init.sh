#!/bin/sh
# Stage 2 inside the guest (PID 1, on the overlay root): kernel Bluetooth, D-Bus and bluetoothd,
# then the command the host left in /mnt/results/cmd.sh; its exit code goes to
# /mnt/results/exit_code, and the guest powers off.
R=/mnt/results
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
for word in $(cat /proc/cmdline); do
  case "$word" in bs_modules=*) MODULES="${word#bs_modules=}" ;; esac
done
# /tmp stays the host's (through the overlay, writes stay in the guest): a checkout under /tmp
# (CI, fresh clones) must remain visible.
mount -t tmpfs tmpfs /run; mkdir -p /run/dbus /dev/pts
mount -t devpts devpts /dev/pts
# The kernel's own module tree (unpacked from Debian's package) replaces the host's.
mkdir -p /lib/modules && mount --bind "$MODULES" /lib/modules
ip link set lo up 2>/dev/null || busybox ip link set lo up
modprobe hci_vhci || echo "guest: modprobe hci_vhci failed" >> $R/cmd.log
dbus-daemon --system --fork --nopidfile
/usr/libexec/bluetooth/bluetoothd --nodetach --experimental > $R/bluetoothd.log 2>&1 &
sleep 1
echo up > $R/guest_ready
sh $R/cmd.sh > $R/cmd.log 2>&1
echo $? > $R/exit_code
kill %1 2>/dev/null
sync
# poweroff -f is synchronous; sysrq is the fallback. Never let PID 1 exit (that panics).
/bin/busybox poweroff -f 2>/dev/null || echo o > /proc/sysrq-trigger
while :; do :; done
