import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  bootPartitionOffset,
  type DeviceInfo,
  defaultBmapPath,
  flash,
  inspectDevice,
  PreseedSchema,
  refusal,
  rootDiskName,
  verifyAgainstBmap,
} from "../../../image/flash";

// A small GPT disk image standing in for a built one: ESP (FAT) + ext4, compressed, with bmap.
const tmp = mkdtempSync(path.join(os.tmpdir(), "freehold-flash-"));
const raw = path.join(tmp, "freehold-test.img");
const image = `${raw}.xz`;
const env = { ...process.env, MTOOLS_SKIP_CHECK: "1" };
const sh = (argv: string[], input?: string) =>
  execFileSync(argv[0] as string, argv.slice(1), { env, input, encoding: "utf8" });
const sha = (f: string, len?: number) => {
  const data = readFileSync(f);
  return createHash("sha256")
    .update(len === undefined ? data : data.subarray(0, len))
    .digest("hex");
};

beforeAll(() => {
  sh(["truncate", "--size", "48M", raw]);
  sh(
    ["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", "--", raw],
    "label: gpt\nstart=2048, size=65536, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp\nstart=67584, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root\n",
  );
  sh(["mkfs.vfat", "-n", "FREEHOLD", "--offset=2048", "--", raw, String(32 * 1024)]);
  const files = path.join(tmp, "files");
  sh(["mkdir", "-p", path.join(files, "etc")]);
  writeFileSync(path.join(files, "etc/hostname"), "freehold\n");
  sh(["mkfs.ext4", "-q", "-F", "-E", `offset=${67584 * 512}`, "-d", files, "--", raw, "12M"]);
  sh(["bmaptool", "create", "--output", path.join(tmp, "freehold-test.bmap"), "--", raw]);
  sh(["xz", "--keep", "-0", "--", raw]);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fileDevice = (name: string) => path.join(tmp, name);

describe("flash onto an image file standing in for a device", () => {
  it("finds the bmap beside the image", () => {
    expect(defaultBmapPath("/d/freehold-amd64.img.xz")).toBe("/d/freehold-amd64.bmap");
    expect(defaultBmapPath("/d/freehold-rpi.img.zst")).toBe("/d/freehold-rpi.bmap");
    expect(existsSync(defaultBmapPath(image))).toBe(true);
  });

  it("writes, verifies and pre-seeds after a confirmation naming the disk", async () => {
    const dev = fileDevice("sdX.img");
    const confirm = vi.fn(async (_q: string) => true);
    const res = await flash(
      {
        image,
        device: dev,
        allowFile: true,
        preseed: {
          setupCode: "abcd-efgh-jkmn-pq23",
          hostname: "Attic",
          wifi: { ssid: "home net", psk: "correct horse battery" },
          sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFreeholdTestKeyOnly owner@laptop",
        },
      },
      { confirm, log: () => {} },
    );
    expect(confirm).toHaveBeenCalledOnce();
    expect(confirm.mock.calls[0]?.[0]).toContain(dev);
    expect(res.verified).toBe(true);
    expect(res.preseeded.sort()).toEqual([
      "freehold-authorized_keys",
      "freehold-hostname.txt",
      "freehold-setup-code.txt",
      "freehold-wifi.json",
    ]);
    // everything but the FAT partition (which now holds the pre-seed files) is byte-identical
    const off = await bootPartitionOffset(dev);
    expect(off).toBe(2048 * 512);
    expect(sha(dev, off)).toBe(sha(raw, off));
    const fatEnd = off + 65536 * 512;
    expect(createHash("sha256").update(readFileSync(dev).subarray(fatEnd)).digest("hex")).toBe(
      createHash("sha256").update(readFileSync(raw).subarray(fatEnd)).digest("hex"),
    );
    const type = (name: string) => sh(["mtype", "-i", `${dev}@@${off}`, `::/${name}`]);
    expect(type("freehold-setup-code.txt").trim()).toBe("ABCD-EFGH-JKMN-PQ23");
    expect(type("freehold-hostname.txt").trim()).toBe("attic");
    expect(JSON.parse(type("freehold-wifi.json"))).toEqual({
      ssid: "home net",
      psk: "correct horse battery",
    });
    expect(type("freehold-authorized_keys")).toContain("ssh-ed25519 ");
  });

  it("leaves the disk untouched when not confirmed", async () => {
    const dev = fileDevice("keep.img");
    writeFileSync(dev, Buffer.alloc(1 << 20, 7));
    const before = sha(dev);
    await expect(
      flash({ image, device: dev, allowFile: true }, { confirm: async () => false, log: () => {} }),
    ).rejects.toThrow(/not confirmed/);
    expect(sha(dev)).toBe(before);
  });

  it("refuses a regular file unless allowed", async () => {
    const dev = fileDevice("plain.img");
    writeFileSync(dev, "x");
    const confirm = vi.fn(async () => true);
    await expect(flash({ image, device: dev }, { confirm, log: () => {} })).rejects.toThrow(/regular file/);
    expect(confirm).not.toHaveBeenCalled();
  });

  it("refuses a non-removable disk without force, before asking", async () => {
    const fake: DeviceInfo = {
      path: "/dev/sdz",
      kind: "block",
      model: "Internal SSD",
      sizeBytes: 256e9,
      removable: false,
      transport: "sata",
      holdsRoot: false,
      mountpoints: [],
    };
    const confirm = vi.fn(async () => true);
    await expect(
      flash({ image, device: "/dev/sdz" }, { confirm, inspect: async () => fake, log: () => {} }),
    ).rejects.toThrow(/not a removable disk/);
    expect(confirm).not.toHaveBeenCalled();
  });

  it("refuses the disk of the running system even with force", () => {
    const base: DeviceInfo = {
      path: "/dev/sda",
      kind: "block",
      model: "m",
      sizeBytes: 1e10,
      removable: true,
      transport: "usb",
      holdsRoot: true,
      mountpoints: [],
    };
    expect(refusal(base, true)?.message).toMatch(/running system/);
    expect(refusal({ ...base, holdsRoot: false, mountpoints: ["/media/x"] }, true)?.message).toMatch(
      /mounted/,
    );
    expect(refusal({ ...base, holdsRoot: false, removable: false }, false)?.hint).toMatch(/--force/);
    expect(refusal({ ...base, holdsRoot: false, removable: false }, true)).toBeNull();
    expect(refusal({ ...base, holdsRoot: false }, false)).toBeNull();
  });

  it("sees that the host's own root disk holds the running system (read-only lsblk)", async () => {
    const disk = await rootDiskName();
    if (!disk || !existsSync(`/dev/${disk}`)) return; // / is not on a block device here (container)
    const info = await inspectDevice(`/dev/${disk}`);
    expect(info.holdsRoot).toBe(true);
    expect(refusal(info, true)).not.toBeNull();
  });

  it("detects a read-back mismatch", async () => {
    const dev = fileDevice("bad.img");
    sh(["cp", "--sparse=always", "--", raw, dev]);
    const bmap = readFileSync(path.join(tmp, "freehold-test.bmap"), "utf8");
    await verifyAgainstBmap(dev, bmap);
    const fd = openSync(dev, "r+");
    writeSync(fd, Buffer.from([0x42]), 0, 1, 67584 * 512 + 1024 + 3); // inside the ext4 superblock
    closeSync(fd);
    await expect(verifyAgainstBmap(dev, bmap)).rejects.toThrow(/mismatch/);
    expect(statSync(dev).size).toBe(statSync(raw).size);
  });

  it("validates pre-seed values", () => {
    expect(PreseedSchema.safeParse({ setupCode: "ABCD-EFGH-IJKL-MNOP" }).success).toBe(false); // I and O are ambiguous
    expect(PreseedSchema.safeParse({ hostname: "-bad" }).success).toBe(false);
    expect(PreseedSchema.safeParse({ wifi: { ssid: "x", psk: "short" } }).success).toBe(false);
    expect(PreseedSchema.safeParse({ sshPublicKey: "not a key" }).success).toBe(false);
    expect(PreseedSchema.safeParse({ extra: 1 }).success).toBe(false);
  });
});
