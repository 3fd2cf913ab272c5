import { describe, expect, it } from "vitest";
import { OpError } from "../../../app/agent/host";
import { HEADER_BACKUP, MAPPER_PATH } from "../../../app/agent/ops/luks";
import { volumeEncrypt } from "../../../app/agent/ops/volume-encrypt";
import { expectPreviewFollowed } from "./recording-host";
import { PART, SECRETS, volumeMachine } from "./volume-machine";

const encrypted = {
  device: "system" as const,
  erase: false,
  encrypt: true,
  passphrase: { secret: "disk.passphrase" as const },
  recoveryKey: { secret: "disk.recoveryKey" as const },
  mountpoint: "/srv/freehold" as const,
};
const KDF = "--pbkdf argon2id --pbkdf-memory 262144 --pbkdf-parallel 2 --iter-time 2000";

function systemMachine(options: Parameters<typeof volumeMachine>[0] = {}) {
  const m = volumeMachine(options);
  m.host.present.add(PART);
  return m;
}

describe("volume.encrypt (encrypted, the system disk's data partition)", () => {
  it("runs the exact fresh-machine path and verifies it", async () => {
    const { host } = systemMachine();
    const outcome = await volumeEncrypt.run(encrypted, SECRETS, host);
    expect(outcome).toMatchObject({ changed: true, verified: true });
    expect(outcome.detail).toMatchObject({ cipher: "aes-xts-plain64", mounted: `${MAPPER_PATH} (ext4)` });
    expect(host.lines()).toEqual([
      `cryptsetup isLuks -- ${PART}`,
      `blkid -o export -- ${PART}`,
      "write /var/lib/freehold-agent/luks-formatting",
      `cryptsetup luksFormat --type luks2 --batch-mode --cipher aes-xts-plain64 --key-size 512 ${KDF} --label freehold-data --subsystem freehold --key-file - -- ${PART}`,
      `cryptsetup open --test-passphrase --key-file - -- ${PART}`,
      `cryptsetup luksAddKey ${KDF} -- ${PART}`,
      "remove /var/lib/freehold-agent/luks-formatting",
      `remove ${HEADER_BACKUP}`,
      `cryptsetup luksHeaderBackup --header-backup-file ${HEADER_BACKUP} -- ${PART}`,
      `cryptsetup open --type luks2 --key-file - -- ${PART} freehold-data`,
      `blkid -o export -- ${MAPPER_PATH}`,
      `mkfs.ext4 -L freehold-data -- ${MAPPER_PATH}`,
      `blkid -o export -- ${PART}`,
      "write /etc/systemd/system/srv-freehold.mount",
      "systemctl daemon-reload",
      "write /var/lib/freehold-agent/data-volume.json",
      "findmnt -n -o SOURCE,FSTYPE,UUID -- /srv/freehold",
      "systemctl start -- srv-freehold.mount",
      "findmnt -n -o SOURCE,FSTYPE,UUID -- /srv/freehold",
      `cryptsetup isLuks -- ${PART}`,
      `cryptsetup luksDump --dump-json-metadata -- ${PART}`,
      `blkid -o export -- ${PART}`,
      `cryptsetup open --test-passphrase --key-file - -- ${PART}`,
    ]);
    const addKey = host.calls.find((c) => c.argv[1] === "luksAddKey");
    expect(addKey?.stdin).toEqual({ lines: ["disk.passphrase", "disk.recoveryKey"] });
    expect(host.files.get("/etc/systemd/system/srv-freehold.mount")?.content).not.toContain("[Install]");
    expect(host.files.get("/var/lib/freehold-agent/data-volume.json")?.content).toBe(
      '{"device":"/dev/disk/by-uuid/11111111-2222-3333-4444-555555555555","encrypted":true}\n',
    );
    expectPreviewFollowed(volumeEncrypt.preview(encrypted), host.calls);
    host.expectNoLeaks();
  });

  it("changes nothing on a second run", async () => {
    const { host } = systemMachine();
    await volumeEncrypt.run(encrypted, SECRETS, host);
    host.reset();
    expect(await volumeEncrypt.run(encrypted, SECRETS, host)).toMatchObject({
      changed: false,
      verified: true,
    });
    expect(host.lines().some((l) => /luksFormat|luksAddKey|mkfs|write|start|wipefs/.test(l))).toBe(false);
  });

  it("resumes after a power cut that followed luksFormat: no second format", async () => {
    const { host, dev } = systemMachine();
    dev(PART).luks = {
      label: "freehold-data",
      subsystem: "freehold",
      cipher: "aes-xts-plain64",
      uuid: "11111111-2222-3333-4444-555555555555",
      slots: [{ key: SECRETS["disk.passphrase"], memory: 262144 }],
    };
    expect(await volumeEncrypt.run(encrypted, SECRETS, host)).toMatchObject({
      changed: true,
      verified: true,
    });
    expect(host.lines().some((l) => l.includes("luksFormat") || l.startsWith("wipefs"))).toBe(false);
    expect(host.lines().some((l) => l.includes("luksAddKey"))).toBe(true);
  });

  it("never formats a partition holding a filesystem unless erase was confirmed", async () => {
    const { host, dev } = systemMachine();
    dev(PART).fs = { type: "ext4", label: "photos", uuid: "1234" };
    await expect(volumeEncrypt.run(encrypted, SECRETS, host)).rejects.toThrow(/never formatted without/);
    expect(host.lines().some((l) => /luksFormat|wipefs|mkfs/.test(l))).toBe(false);

    host.reset();
    expect(await volumeEncrypt.run({ ...encrypted, erase: true }, SECRETS, host)).toMatchObject({
      verified: true,
    });
    expect(host.lines()).toContain(`wipefs --all -- ${PART}`);
  });

  it("refuses our volume when the passphrase does not open it (unless erase)", async () => {
    const { host } = systemMachine();
    await volumeEncrypt.run(encrypted, { ...SECRETS, "disk.passphrase": "an older passphrase" }, host);
    host.reset();
    await expect(volumeEncrypt.run(encrypted, SECRETS, host)).rejects.toThrow(/does not open/);
    expect(host.lines().some((l) => /luksFormat|wipefs/.test(l))).toBe(false);
  });

  it("formats again after a power cut left our header without a working key slot", async () => {
    const { host } = systemMachine();
    // The first run's header exists but its passphrase is not this plan's (as if the cut came
    // between the header and the key slot), and the formatting marker is still there.
    await volumeEncrypt.run(encrypted, { ...SECRETS, "disk.passphrase": "a half-written slot" }, host);
    host.file("/var/lib/freehold-agent/luks-formatting", `${PART}\n`);
    host.reset();
    expect(await volumeEncrypt.run(encrypted, SECRETS, host)).toMatchObject({ verified: true });
    expect(host.lines()).toContain(`wipefs --all -- ${PART}`);
    expect(host.lines().some((l) => l.includes("luksFormat"))).toBe(true);
    expect(host.files.has("/var/lib/freehold-agent/luks-formatting")).toBe(false);
  });

  it("reports verified: false when a key slot was made with more Argon2 memory than a Pi has", async () => {
    const { host } = systemMachine({ slotMemory: 1048576 });
    const outcome = await volumeEncrypt.run(encrypted, SECRETS, host);
    expect(outcome.verified).toBe(false);
    expect(outcome.detail?.problems).toContain("kdf memory 1048576");
  });

  it("chooses Adiantum on a CPU without AES instructions (Raspberry Pi 4)", async () => {
    const { host } = systemMachine({ cpu: "Features\t: fp asimd evtstrm crc32 cpuid\n" });
    expect(await volumeEncrypt.run(encrypted, SECRETS, host)).toMatchObject({ verified: true });
    expect(host.lines().find((l) => l.includes("luksFormat"))).toContain(
      "--cipher xchacha12,aes-adiantum-plain64 --key-size 256",
    );
  });

  it("refuses a key with a line break (keys are whole lines for luksAddKey)", async () => {
    const { host } = systemMachine();
    const bad = { ...SECRETS, "disk.passphrase": "one line\nand another" };
    await expect(volumeEncrypt.run(encrypted, bad, host)).rejects.toThrow(/line break/);
    expect(host.calls).toEqual([]);
  });

  it("needs both secrets and a data partition", async () => {
    await expect(volumeEncrypt.run(encrypted, {}, systemMachine().host)).rejects.toThrow(OpError);
    await expect(volumeEncrypt.run(encrypted, SECRETS, volumeMachine().host)).rejects.toThrow(
      /no data partition/,
    );
  });
});

describe("volume.encrypt (not encrypted)", () => {
  const plain = {
    device: "system" as const,
    erase: false,
    encrypt: false,
    mountpoint: "/srv/freehold" as const,
  };

  it("makes ext4, an enabled mount unit by UUID, mounts it; a second run changes nothing", async () => {
    const { host } = systemMachine();
    expect(await volumeEncrypt.run(plain, {}, host)).toMatchObject({ changed: true, verified: true });
    expect(host.lines()).toContain(`mkfs.ext4 -L freehold-data -- ${PART}`);
    expect(host.lines()).toContain("systemctl enable -- srv-freehold.mount");
    const unit = host.files.get("/etc/systemd/system/srv-freehold.mount")?.content ?? "";
    expect(unit).toContain("What=/dev/disk/by-uuid/99999999-8888-7777-6666-555555555555");
    expect(unit).toContain("WantedBy=local-fs.target");
    expectPreviewFollowed(volumeEncrypt.preview(plain), host.calls);
    host.reset();
    expect(await volumeEncrypt.run(plain, {}, host)).toMatchObject({ changed: false, verified: true });
  });
});

describe("volume.encrypt (an attached disk)", () => {
  const disk = { ...encrypted, device: "/dev/sdb" };
  function diskMachine() {
    const m = volumeMachine();
    let partitioned = false;
    m.dev("/dev/sdb").pttype = "dos";
    m.host
      .on(["lsblk"], () => {
        const children = partitioned
          ? [{ name: "/dev/sdb1", path: "/dev/sdb1", type: "part", size: 1e9, partlabel: "freehold-data" }]
          : [
              {
                name: "/dev/sdb1",
                path: "/dev/sdb1",
                type: "part",
                size: 1e9,
                partlabel: null,
                mountpoints: [null],
              },
            ];
        return {
          stdout: JSON.stringify({
            blockdevices: [{ name: "/dev/sdb", path: "/dev/sdb", type: "disk", size: 1e9, children }],
          }),
        };
      })
      .on(["sfdisk"], () => {
        partitioned = true;
        return {};
      });
    return m;
  }

  it("refuses a disk with data unless erase was confirmed", async () => {
    const { host } = diskMachine();
    await expect(volumeEncrypt.run(disk, SECRETS, host)).rejects.toThrow(/never formatted without/);
    expect(host.lines().some((l) => /wipefs|sfdisk/.test(l))).toBe(false);
  });

  it("wipes, partitions and encrypts partition 1 when erase was confirmed", async () => {
    const { host } = diskMachine();
    const input = { ...disk, erase: true };
    expect(await volumeEncrypt.run(input, SECRETS, host)).toMatchObject({ changed: true, verified: true });
    expect(host.lines().slice(0, 6)).toEqual([
      "lsblk --json --bytes --paths --output NAME,PATH,TYPE,SIZE,PARTLABEL,FSTYPE,MOUNTPOINTS -- /dev/sdb",
      "blkid -o export -- /dev/sdb",
      "wipefs --all -- /dev/sdb",
      "sfdisk --label gpt -- /dev/sdb",
      "udevadm settle --timeout=30",
      "lsblk --json --bytes --paths --output NAME,PATH,TYPE,SIZE,PARTLABEL,FSTYPE,MOUNTPOINTS -- /dev/sdb",
    ]);
    expect(host.calls.find((c) => c.argv[0] === "sfdisk")?.stdin).toEqual({
      text: "type=linux, name=freehold-data\n",
    });
    expect(host.lines()).toContain(`cryptsetup open --type luks2 --key-file - -- /dev/sdb1 freehold-data`);
    expectPreviewFollowed(volumeEncrypt.preview(input), host.calls);
    host.reset();
    expect(await volumeEncrypt.run(input, SECRETS, host)).toMatchObject({ changed: false, verified: true });
  });

  it("refuses a disk that is mounted", async () => {
    const { host } = diskMachine();
    host.on(["lsblk"], {
      stdout: JSON.stringify({
        blockdevices: [{ name: "sdb", path: "/dev/sdb", type: "disk", size: 1, mountpoints: ["/media/usb"] }],
      }),
    });
    await expect(volumeEncrypt.run({ ...disk, erase: true }, SECRETS, host)).rejects.toThrow(/in use/);
  });
});
