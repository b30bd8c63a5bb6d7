#!/usr/bin/env bash
# The root file system as a GPT disk: ESP (systemd-boot, kernel, initrd), NPAC-CONFIG (npac.toml),
# the read-only root, and the data partition (/var). Every file system is made from a directory with
# fixed UUIDs and timestamps (no loop devices, no mounts), then written into the disk at its offset.
#   assemble.sh ROOTFS IMAGE
set -euo pipefail
cd "$(dirname "$0")/.."
. image/pins/image.env
ROOTFS=$1
IMG=$2
PARTS=$(dirname "$IMG")/work/parts
rm -rf "$PARTS" && mkdir -p "$PARTS"
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH MTOOLS_SKIP_CHECK=1

kernel=$(ls "$ROOTFS"/boot/vmlinuz-* | sort -V | tail -1)
initrd=$(ls "$ROOTFS"/boot/initrd.img-* | sort -V | tail -1)
[ -f "$kernel" ] && [ -f "$initrd" ] || { echo "assemble: no kernel/initrd in $ROOTFS/boot" >&2; exit 2; }

# ESP: the boot loader and its one entry; `editor no` so the command line cannot be changed at the prompt
esp=$PARTS/esp
mkdir -p "$esp/EFI/BOOT" "$esp/loader/entries"
cp "$ROOTFS/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$esp/EFI/BOOT/BOOTX64.EFI"
cp "$kernel" "$esp/vmlinuz"
cp "$initrd" "$esp/initrd.img"
printf 'default npac.conf\ntimeout 0\neditor no\nconsole-mode keep\n' > "$esp/loader/loader.conf"
cat > "$esp/loader/entries/npac.conf" <<ENTRY
title   NPAC SMS appliance
linux   /vmlinuz
initrd  /initrd.img
options root=PARTUUID=$ROOT_PARTUUID ro rootfstype=ext4 console=tty0 console=ttyS0,115200n8 net.ifnames=0 systemd.show_status=true systemd.status_unit_format=name loglevel=4
ENTRY

# NPAC-CONFIG: the example and a README; the installer adds npac.toml (and the key lists it names)
cfg=$PARTS/config
mkdir -p "$cfg"
cp image/config/npac.toml.example "$cfg/npac.toml.example"
printf 'Write npac.toml here (see npac.toml.example). No NPAC service starts without a valid one.\r\n' > "$cfg/README.txt"

# root without /var (that is the data partition); both from the same tree
data=$PARTS/var
mv "$ROOTFS/var" "$data"
mkdir -m 0755 "$ROOTFS/var"
for tree in "$ROOTFS" "$data" "$esp" "$cfg"; do
  find "$tree" -depth -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
done

mib() { echo $(( ($1 + 1048575) / 1048576 )); }
root_mib=$(( ( $(du -s --block-size=1M "$ROOTFS" | cut -f1) * 125 / 100 + 63 ) / 64 * 64 ))
mkfs.ext4 -q -F -L npac-root -U "$ROOT_FSUUID" -E "hash_seed=$EXT4_HASH_SEED,root_owner=0:0" -m 0 \
  -d "$ROOTFS" "$PARTS/root.ext4" "${root_mib}M"
mkfs.ext4 -q -F -L npac-data -U "$DATA_FSUUID" -E "hash_seed=$EXT4_HASH_SEED,root_owner=0:0" -m 1 \
  -d "$data" "$PARTS/data.ext4" "${DATA_MIB}M"
mv "$data" "$ROOTFS/var.built" # the tree is thrown away with the root by the caller
mkfs.vfat -F 32 -n NPAC-ESP -i "$ESP_VOLID" --invariant -C "$PARTS/esp.vfat" $(( ESP_MIB * 1024 )) >/dev/null
mkfs.vfat -F 16 -n NPAC-CONFIG -i "$CONFIG_VOLID" --invariant -C "$PARTS/config.vfat" $(( CONFIG_MIB * 1024 )) >/dev/null
(cd "$esp" && mcopy -s -m -i "$OLDPWD/$PARTS/esp.vfat" ./* ::/)
(cd "$cfg" && mcopy -s -m -i "$OLDPWD/$PARTS/config.vfat" ./* ::/)

# GPT: 1 MiB alignment, then the four partitions in this order (image-test writes NPAC-CONFIG at its offset)
start=1
rm -f "$IMG"
total=$(( 1 + ESP_MIB + CONFIG_MIB + root_mib + DATA_MIB + 1 ))
truncate -s "${total}M" "$IMG"
sfdisk -q --no-reread --no-tell-kernel "$IMG" <<GPT
label: gpt
label-id: $DISK_GUID
unit: sectors
start=$(( 1 * 2048 )), size=$(( ESP_MIB * 2048 )), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$ESP_PARTUUID, name="esp"
start=$(( (1 + ESP_MIB) * 2048 )), size=$(( CONFIG_MIB * 2048 )), type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, uuid=$CONFIG_PARTUUID, name="npac-config"
start=$(( (1 + ESP_MIB + CONFIG_MIB) * 2048 )), size=$(( root_mib * 2048 )), type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$ROOT_PARTUUID, name="npac-root"
start=$(( (1 + ESP_MIB + CONFIG_MIB + root_mib) * 2048 )), size=$(( DATA_MIB * 2048 )), type=4D21B016-B534-45C2-A9FB-5C16E091FD2D, uuid=$DATA_PARTUUID, name="npac-data"
GPT
put() { dd if="$1" of="$IMG" bs=1M seek="$2" conv=notrunc,sparse status=none; }
put "$PARTS/esp.vfat" 1
put "$PARTS/config.vfat" $(( 1 + ESP_MIB ))
put "$PARTS/root.ext4" $(( 1 + ESP_MIB + CONFIG_MIB ))
put "$PARTS/data.ext4" $(( 1 + ESP_MIB + CONFIG_MIB + root_mib ))
rm -rf "$PARTS"
