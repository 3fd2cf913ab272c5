import { COMMON_PACKAGES, COMMON_UNITS, DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR } from "./common";
import type { TargetInput } from "./schema";

/**
 * Raspberry Pi 3, 4 and 5 (64-bit): MBR, FAT firmware partition filled by raspi-firmware's hooks,
 * ext4 root. The kernel comes from trixie-backports: trixie's 6.12 lacks the Pi 5's RP1 drivers.
 */
export const rpi: TargetInput = {
  name: "rpi",
  description: "Raspberry Pi 3/4/5 (arm64), MBR",
  suite: "trixie",
  arch: "arm64",
  mirror: DEBIAN_MIRROR,
  securityMirror: DEBIAN_SECURITY_MIRROR,
  components: ["main", "non-free-firmware"],
  backports: true,
  variant: "minbase",
  packages: [
    ...COMMON_PACKAGES,
    "linux-image-arm64/trixie-backports",
    "raspi-firmware",
    "firmware-brcm80211",
    "wireless-regdb",
  ],
  overlays: ["common", "rpi"],
  units: [...COMMON_UNITS],
  hostname: "freehold",
  partitionTable: { type: "dos", diskId: "0xd3f611fb" },
  firstLbaMiB: 4,
  partitions: [
    {
      name: "firmware",
      role: "firmware",
      type: "0c",
      sizeMiB: 256,
      fs: "vfat",
      fsUuid: "F7EE0003",
      fsLabel: "RASPIFIRM",
      mountPoint: "/boot/firmware",
      bootable: true,
    },
    {
      name: "freehold-root",
      role: "root",
      type: "83",
      sizeMiB: 2048,
      fs: "ext4",
      fsUuid: "94f475a3-9622-4ab6-a785-abcc605a490e",
      fsLabel: "freehold-root",
      mountPoint: "/",
    },
  ],
  bootloader: {
    kind: "rpi-firmware",
    dtbs: [
      "bcm2837-rpi-3-b.dtb",
      "bcm2837-rpi-3-b-plus.dtb",
      "bcm2711-rpi-4-b.dtb",
      "bcm2711-rpi-400.dtb",
      "bcm2712-rpi-5-b.dtb",
    ],
    configTxt: ["# Freehold", "disable_overscan=1"],
  },
  kernelCmdline: ["systemd.ssh_auto=no", "console=tty0", "console=ttyS1,115200"],
  qemu: {
    binary: "qemu-system-aarch64",
    machine: "raspi3b",
    cpu: "cortex-a53",
    memoryMiB: 1024,
    bios: false,
    serial: "ttyAMA0",
    emulated: false,
  },
};
