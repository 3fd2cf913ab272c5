/** Data shared by all targets (still data: no logic). */

export const DEBIAN_MIRROR = "http://deb.debian.org/debian";
export const DEBIAN_SECURITY_MIRROR = "http://deb.debian.org/debian-security";

/** Packages every image carries, whatever the hardware. */
export const COMMON_PACKAGES = [
  // init, devices, bus
  "systemd",
  "systemd-sysv",
  "systemd-resolved",
  "systemd-timesyncd",
  "udev",
  "dbus",
  "kmod",
  "initramfs-tools",
  "zstd",
  // discovery and remote access
  "avahi-daemon",
  "libnss-mdns",
  "openssh-server",
  // network and firewall
  "iproute2",
  "iputils-ping",
  "nftables",
  "wpasupplicant",
  "ca-certificates",
  "openssl",
  // storage, backups, containers
  "e2fsprogs",
  "fdisk",
  "dosfstools",
  "cryptsetup",
  // TPM2 automatic unlock of the data volume: systemd-cryptenroll, cryptsetup's systemd-tpm2 token
  // plugin, and the TSS libraries they load at run time
  "systemd-cryptsetup",
  "libtss2-esys-3.0.2-0t64",
  "libtss2-rc0t64",
  "restic",
  "podman",
  // podman's libgpgme needs "gnupg | gpg": naming gpg keeps out the agent, dirmngr and gpgsm
  "gpg",
  "netavark",
  "aardvark-dns",
  // administration
  "sudo",
  "unattended-upgrades",
  "procps",
  // hardening: debsums checks installed files against their packages (weekly, set by system.harden;
  // systemd-cron runs /etc/cron.weekly with timers, there is no cron daemon); pam_pwquality refuses
  // weak passwords set with passwd
  "debsums",
  "systemd-cron",
  "libpam-pwquality",
  // mkpasswd: the web app hashes the owner's Unix password with yescrypt
  "whois",
  "less",
  "nano",
  "pciutils",
  "usbutils",
  // the web app runs on Debian's own Node.js, so security updates come with the OS
  "nodejs",
] as const;

/** Partition type GUIDs (UEFI spec and the Discoverable Partitions Specification). */
export const GPT_TYPE = {
  biosBoot: "21686148-6449-6e6f-744e-656564454649",
  esp: "c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
  rootX86_64: "4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
  rootArm64: "b921b045-1df0-41c3-af44-4c6f280d3fae",
  linuxData: "0fc63daf-8483-4772-8e79-3d69d8477de4",
} as const;

/** The partition that first boot appends in the free space of the boot disk. */
export const DATA_PARTITION_NAME = "freehold-data";

/** GRUB modules built into the core images (all platforms have these). */
export const GRUB_CORE_MODULES = [
  "part_gpt",
  "part_msdos",
  "ext2",
  "fat",
  "search",
  "search_fs_uuid",
  "normal",
  "configfile",
  "linux",
  "echo",
  "test",
  "gzio",
  "xzio",
  "zstd",
  "minicmd",
  "ls",
  "cat",
  "halt",
  "reboot",
] as const;

/** Units every image enables (first-boot units hang off freehold-firstboot.target). */
export const COMMON_UNITS = [
  "systemd-networkd.service",
  "systemd-resolved.service",
  "systemd-timesyncd.service",
  "nftables.service",
  "avahi-daemon.service",
  "ssh.service",
  "freehold-firstboot.target",
  "freehold-grow-disk.service",
  "freehold-preseed.service",
  "freehold-ssh-keys.service",
  "freehold-tls.service",
  "freehold-setup-code.service",
  "freehold-console.service",
  "freehold-console.path",
  "freehold-agent.socket",
  "freehold-web.service",
  "freehold-volume-tpm2.service",
] as const;
