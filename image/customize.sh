#!/usr/bin/env bash
# mmdebstrap customize hook: the application, its units and the appliance's system settings.
# $1 is the root file system being built; NPAC_REPO and NPAC_WORK come from build.sh.
set -euo pipefail
R=$1
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" LC_ALL=C.UTF-8 "$@"; }

# the service user: fixed ids, so file ownership on the data partition survives a re-install
in_root groupadd --system --gid 990 npac
in_root useradd --system --uid 990 --gid npac --groups dialout --home-dir /var/lib/npac --no-create-home \
  --shell /usr/sbin/nologin npac

# the application: its own venv from the project's wheel and the pinned wheels, nothing compiled here
mkdir -p "$R/opt/npac/lib" "$R/opt/npac/doc" "$R/tmp/wheels"
cp "$NPAC_WORK"/wheels/*.whl "$R/tmp/wheels/"
in_root python3 -m venv --without-pip /opt/npac/venv
pip_wheel=$(cd "$R/tmp/wheels" && ls pip-*.whl)
mapfile -t wheels < <(cd "$R/tmp/wheels" && ls *.whl | sed 's#^#/tmp/wheels/#')
in_root /opt/npac/venv/bin/python "/tmp/wheels/$pip_wheel/pip" install -q --no-index --no-deps --no-cache-dir \
  --disable-pip-version-check "${wheels[@]}"
ln -s /opt/npac/venv/bin/npac "$R/usr/local/bin/npac"
in_root /opt/npac/venv/bin/python -c "import appliance.node, ha.manager, snmp.agent, systemd.daemon"
rm -rf "$R/tmp/wheels"
cp -r "$NPAC_REPO/firmware-hooks" "$R/opt/npac/firmware-hooks"
find "$R/opt/npac/firmware-hooks" -name __pycache__ -prune -exec rm -rf {} +
cp -r "$NPAC_REPO/image/firstboot" "$R/opt/npac/lib/firstboot"
cp -r "$NPAC_REPO/image/console" "$R/opt/npac/lib/console"
find "$R/opt/npac/lib" -name __pycache__ -prune -exec rm -rf {} +
cp "$NPAC_REPO/image/config/npac.toml.example" "$R/opt/npac/doc/"
cp "$NPAC_REPO/snmp/mibs/"*.txt "$R/opt/npac/doc/" 2>/dev/null || true

# system settings and units (image/rootfs is laid over the root as it is)
cp -r "$NPAC_REPO/image/rootfs/." "$R/"
mkdir -p "$R/config" "$R/boot/efi" "$R/var/lib/npac"
chown 990:990 "$R/var/lib/npac" && chmod 0750 "$R/var/lib/npac"
echo npac > "$R/etc/hostname"
ln -sf /usr/share/zoneinfo/UTC "$R/etc/localtime"
# a read-only root: systemd puts a transient machine id over the empty file at every boot
: > "$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"
# no default passwords: root is locked; the serial line carries the NPAC console, not a login
in_root passwd --lock root >/dev/null
in_root systemctl enable npac-firstboot.service npac-node.service npac-ha.service npac-snmp.service \
  npac-console-serial.service systemd-networkd.service >/dev/null 2>&1
in_root systemctl disable ssh.service >/dev/null 2>&1 || true
in_root systemctl mask serial-getty@ttyS0.service getty@tty1.service ssh.socket >/dev/null 2>&1
# host keys made by openssh-server's postinst would be the same on every appliance
rm -f "$R"/etc/ssh/ssh_host_*
# build leftovers: package caches and indexes, logs, and nothing that could compile
rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/cache/apt/*.bin "$R"/var/lib/apt/lists/* "$R"/var/log/*.log \
  "$R"/var/log/apt/* "$R"/var/cache/debconf/*-old "$R"/var/lib/dpkg/*-old "$R"/tmp/* "$R"/root/.cache
for cc in gcc cc c++ g++ clang tcc as ld; do
  if [ -e "$R/usr/bin/$cc" ]; then echo "customize: a compiler ($cc) is in the image" >&2; exit 2; fi
done
