/**
 * `freehold flash IMAGE DEVICE`: write an image with bmaptool, verify it, and pre-seed settings
 * onto the boot partition (FAT, written with mtools at its offset; nothing is mounted).
 *
 * Safety: the disk holding the running system is always refused; a non-removable disk needs
 * force; a disk with mounted partitions is refused; the caller's confirm() must say yes to a
 * question naming the disk, its model and size (unless yes is set by the caller).
 */

import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { formatSetupCode, normalizeSetupCode } from "../app/lib/setup-code/code";
import { capture, run } from "./exec";
import { die, formatBytes } from "./log";

export const PreseedSchema = z
  .object({
    // The same alphabet and format the wizard checks (app/lib/setup-code).
    setupCode: z
      .string()
      .transform((value, ctx) => {
        const normalized = normalizeSetupCode(value);
        if (normalized) return formatSetupCode(normalized);
        ctx.addIssue({
          code: "custom",
          message: "setup code is XXXX-XXXX-XXXX-XXXX (letters without I and O, digits 2-9)",
        });
        return z.NEVER;
      })
      .optional(),
    hostname: z
      .string()
      .toLowerCase()
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "host name is one DNS label")
      .optional(),
    wifi: z
      .object({
        ssid: z
          .string()
          .min(1)
          .refine((s) => Buffer.byteLength(s) <= 32, "SSID is at most 32 bytes"),
        psk: z.string().min(8).max(63),
      })
      .optional(),
    sshPublicKey: z
      .string()
      .trim()
      .regex(
        /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/=]+( [^\n]*)?$/,
        "an OpenSSH public key line",
      )
      .optional(),
  })
  .strict();
export type Preseed = z.infer<typeof PreseedSchema>;

export const FlashOptionsSchema = z.object({
  image: z.string().min(1),
  device: z.string().min(1),
  force: z.boolean().default(false),
  yes: z.boolean().default(false),
  preseed: PreseedSchema.default({}),
  /** The bmap file; default: freehold-<target>.bmap beside the image. */
  bmap: z.string().optional(),
  /** Let a regular file stand in for the device (tests, preparing images). */
  allowFile: z.boolean().default(false),
  /** Read the written ranges back and compare them with the bmap's checksums. */
  verify: z.boolean().default(true),
});
export type FlashOptionsInput = z.input<typeof FlashOptionsSchema>;

export interface DeviceInfo {
  path: string;
  kind: "block" | "file";
  model: string | null;
  sizeBytes: number;
  removable: boolean;
  transport: string | null;
  /** Holds /, the running system. */
  holdsRoot: boolean;
  mountpoints: string[];
}

export interface FlashIO {
  /** Ask the person; true means go ahead. The question names the disk. */
  confirm(question: string): Promise<boolean>;
  log?(line: string): void;
  /** For tests: how a device path is inspected (default: lsblk/findmnt). */
  inspect?(device: string): Promise<DeviceInfo>;
}

export interface FlashResult {
  device: DeviceInfo;
  image: string;
  bmap: string;
  verified: boolean;
  preseeded: string[];
}

/** The whole-disk name holding "/" (e.g. "vda", "nvme0n1"), or null when / is not on a disk. */
export async function rootDiskName(): Promise<string | null> {
  try {
    const src = await capture(["findmnt", "--noheadings", "--nofsroot", "--output", "SOURCE", "/"]);
    if (!src.startsWith("/dev/")) return null;
    const parents = (
      await capture(["lsblk", "--noheadings", "--inverse", "--list", "--output", "NAME,TYPE", "--", src])
    )
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter(([, type]) => type === "disk")
      .map(([name]) => name ?? "");
    return parents[0] ?? null;
  } catch {
    return null;
  }
}

interface LsblkDev {
  name: string;
  path: string;
  model: string | null;
  size: number;
  rm: boolean;
  hotplug: boolean;
  tran: string | null;
  type: string;
  mountpoints?: (string | null)[];
  children?: LsblkDev[];
}

export async function inspectDevice(device: string, allowFile = false): Promise<DeviceInfo> {
  if (!existsSync(device)) {
    if (allowFile)
      return {
        path: device,
        kind: "file",
        model: "image file",
        sizeBytes: 0,
        removable: true,
        transport: null,
        holdsRoot: false,
        mountpoints: [],
      };
    die(`${device} does not exist`, "name the whole disk, e.g. /dev/sdb (see lsblk)");
  }
  const st = statSync(device);
  if (st.isFile()) {
    if (!allowFile) die(`${device} is a regular file, not a disk`, "name a block device such as /dev/sdb");
    return {
      path: device,
      kind: "file",
      model: "image file",
      sizeBytes: st.size,
      removable: true,
      transport: null,
      holdsRoot: false,
      mountpoints: [],
    };
  }
  if (!st.isBlockDevice()) die(`${device} is not a block device`);
  const json = JSON.parse(
    await capture([
      "lsblk",
      "--json",
      "--bytes",
      "--output",
      "NAME,PATH,MODEL,SIZE,RM,HOTPLUG,TRAN,TYPE,MOUNTPOINTS",
      "--",
      device,
    ]),
  ) as { blockdevices: LsblkDev[] };
  const dev = json.blockdevices[0] ?? die(`lsblk knows nothing about ${device}`);
  if (dev.type !== "disk")
    die(`${device} is a ${dev.type}, not a whole disk`, "name the disk (e.g. /dev/sdb), not a partition");
  const mounts: string[] = [];
  const collect = (d: LsblkDev) => {
    for (const m of d.mountpoints ?? []) if (m) mounts.push(m);
    for (const c of d.children ?? []) collect(c);
  };
  collect(dev);
  const rootDisk = await rootDiskName();
  return {
    path: device,
    kind: "block",
    model: dev.model?.trim() || null,
    sizeBytes: Number(dev.size),
    removable: Boolean(dev.rm) || Boolean(dev.hotplug) || dev.tran === "usb" || dev.tran === "mmc",
    transport: dev.tran ?? null,
    holdsRoot: rootDisk === dev.name || mounts.includes("/"),
    mountpoints: mounts,
  };
}

/** Why this device must not be written (null = allowed). */
export function refusal(dev: DeviceInfo, force: boolean): { message: string; hint: string } | null {
  if (dev.holdsRoot)
    return {
      message: `${dev.path} holds the running system; refusing to overwrite it`,
      hint: "name another disk (see lsblk)",
    };
  if (dev.mountpoints.length)
    return {
      message: `${dev.path} has mounted filesystems (${dev.mountpoints.join(", ")})`,
      hint: `unmount them first (umount ${dev.mountpoints.join(" ")})`,
    };
  if (!dev.removable && !force)
    return {
      message: `${dev.path} is not a removable disk`,
      hint: "if you really mean this internal disk, pass --force",
    };
  return null;
}

export function describeDevice(dev: DeviceInfo): string {
  const bits = [dev.model ?? "unknown model", formatBytes(dev.sizeBytes)];
  if (dev.transport) bits.push(dev.transport);
  bits.push(dev.removable ? "removable" : "internal");
  return `${dev.path} (${bits.join(", ")})`;
}

export function defaultBmapPath(image: string): string {
  return `${image.replace(/\.img(\.xz|\.zst|\.gz)?$/, "")}.bmap`;
}

interface BmapRange {
  first: number;
  last: number;
  sha256: string | null;
}
export function parseBmap(xml: string): { imageSize: number; blockSize: number; ranges: BmapRange[] } {
  const num = (tag: string) =>
    Number(new RegExp(`<${tag}>\\s*(\\d+)\\s*</${tag}>`).exec(xml)?.[1] ?? Number.NaN);
  const ranges = [
    ...xml.matchAll(/<Range(?:\s+chksum="([0-9a-f]+)")?\s*>\s*(\d+)(?:-(\d+))?\s*<\/Range>/g),
  ].map((m) => ({
    first: Number(m[2]),
    last: Number(m[3] ?? m[2]),
    sha256: m[1] ?? null,
  }));
  return { imageSize: num("ImageSize"), blockSize: num("BlockSize"), ranges };
}

/** Read the bmap's ranges back from the device and compare their sha256 with the bmap's. */
export async function verifyAgainstBmap(device: string, bmapXml: string): Promise<void> {
  const bmap = parseBmap(bmapXml);
  const fd = openSync(device, "r");
  try {
    const buf = Buffer.alloc(4 * 1024 * 1024);
    for (const r of bmap.ranges) {
      if (!r.sha256) continue;
      const h = createHash("sha256");
      let pos = r.first * bmap.blockSize;
      const end = Math.min((r.last + 1) * bmap.blockSize, bmap.imageSize);
      while (pos < end) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
        if (n <= 0) die(`short read on ${device} at ${pos}`);
        h.update(buf.subarray(0, n));
        pos += n;
      }
      if (h.digest("hex") !== r.sha256)
        die(
          `read-back mismatch on ${device} in blocks ${r.first}-${r.last}`,
          "the medium may be faulty; try another one",
        );
    }
  } finally {
    closeSync(fd);
  }
}

/** Byte offset of the first FAT partition (ESP on GPT, firmware partition on MBR). */
export async function bootPartitionOffset(device: string): Promise<number> {
  const pt = JSON.parse(await capture(["sfdisk", "--json", "--", device])).partitiontable as {
    label: string;
    sectorsize?: number;
    partitions: { start: number; type: string }[];
  };
  const fat = new Set(["c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "c", "b", "e", "ef"]);
  const p = pt.partitions.find((x) => fat.has(x.type.toLowerCase()));
  if (!p) die(`no boot (FAT) partition on ${device}`, "is this a Freehold image?");
  return p.start * (pt.sectorsize ?? 512);
}

/** The files the image's freehold-preseed.service consumes, by name. */
export function preseedFiles(p: Preseed): Record<string, string> {
  const files: Record<string, string> = {};
  if (p.setupCode) files["freehold-setup-code.txt"] = `${p.setupCode}\n`;
  if (p.hostname) files["freehold-hostname.txt"] = `${p.hostname}\n`;
  if (p.wifi) files["freehold-wifi.json"] = `${JSON.stringify({ ssid: p.wifi.ssid, psk: p.wifi.psk })}\n`;
  if (p.sshPublicKey) files["freehold-authorized_keys"] = `${p.sshPublicKey}\n`;
  return files;
}

export async function writePreseed(device: string, preseed: Preseed): Promise<string[]> {
  const files = preseedFiles(preseed);
  const names = Object.keys(files);
  if (names.length === 0) return [];
  const offset = await bootPartitionOffset(device);
  const tmp = mkdtempSync(path.join(os.tmpdir(), "freehold-preseed-"));
  try {
    for (const [name, text] of Object.entries(files)) {
      const f = path.join(tmp, name);
      writeFileSync(f, text, { mode: 0o600 }); // secrets travel in files, never in argv
      await run(["mcopy", "-o", "-i", `${device}@@${offset}`, "--", f, `::/${name}`], {
        env: { ...process.env, MTOOLS_SKIP_CHECK: "1" },
      });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  await run(["sync"]);
  return names;
}

export async function flash(input: FlashOptionsInput, io: FlashIO): Promise<FlashResult> {
  const o = FlashOptionsSchema.parse(input);
  const log = io.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const image = path.resolve(o.image);
  if (!existsSync(image))
    die(`image not found: ${image}`, "build one with: freehold image build --target amd64");
  const bmapPath = path.resolve(o.bmap ?? defaultBmapPath(image));
  if (!existsSync(bmapPath))
    die(`bmap not found: ${bmapPath}`, "it is written beside the image by freehold image build");
  const bmapXml = readFileSync(bmapPath, "utf8");
  const { imageSize } = parseBmap(bmapXml);

  const dev = await (io.inspect ? io.inspect(o.device) : inspectDevice(o.device, o.allowFile));
  if (dev.kind === "file" && !o.allowFile) die(`${o.device} is a regular file, not a disk`);
  const no = refusal(dev, o.force);
  if (no) die(no.message, no.hint);
  if (dev.kind === "block" && dev.sizeBytes < imageSize)
    die(`${describeDevice(dev)} is smaller than the image (${formatBytes(imageSize)})`, "use a larger disk");

  log(`Image:  ${image} (${formatBytes(imageSize)} raw)`);
  log(`Disk:   ${describeDevice(dev)}`);
  if (!o.yes) {
    const ok = await io.confirm(
      `Erase ${dev.path} (${dev.model ?? "unknown model"}, ${formatBytes(dev.sizeBytes)}) and write ${path.basename(image)} to it?`,
    );
    if (!ok) die(`not confirmed; ${dev.path} was not touched`);
  }
  log(`Writing ${path.basename(image)} to ${dev.path} with bmaptool…`);
  await run(["bmaptool", "copy", "--bmap", bmapPath, "--", image, dev.path], {
    hint: "apt-get install bmap-tools; check that the disk is still attached",
  });
  let verified = false;
  if (o.verify) {
    log("Verifying (reading the written ranges back)…");
    if (dev.kind === "block") await run(["blockdev", "--flushbufs", "--", dev.path]);
    await verifyAgainstBmap(dev.path, bmapXml);
    verified = true;
  }
  const preseeded = await writePreseed(dev.path, o.preseed);
  if (preseeded.length) log(`Pre-seeded on the boot partition: ${preseeded.join(", ")}`);
  if (dev.kind === "block") await run(["sync"]);
  log(`Done: ${dev.path} is ready to boot.`);
  return { device: dev, image, bmap: bmapPath, verified, preseeded };
}

/** First bytes of a device/file, for checks. */
export function readHead(file: string, length: number, offset = 0): Buffer {
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}
