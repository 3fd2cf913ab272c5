import { execFile } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { detectBoard, detectGpus, detectHardware, drmCards } from "../../../app/lib/hardware/detect";
import { boardFromDeviceTree, cpuFlagsFromCpuinfo, INTERESTING_FLAGS } from "../../../app/lib/hardware/parse";

const run = promisify(execFile);
const fake = mkdtempSync(path.join(tmpdir(), "freehold-sysfs-"));
afterAll(() => rmSync(fake, { recursive: true, force: true }));

function put(file: string, text: string) {
  mkdirSync(path.dirname(path.join(fake, file)), { recursive: true });
  writeFileSync(path.join(fake, file), text);
}

describe("detection on this machine agrees with the kernel", () => {
  it("flags, TPM, board, disk sizes", async () => {
    const profile = await detectHardware();
    const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
    const line = /^(?:flags|Features)\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? [];
    expect(profile.cpu.flags).toEqual(INTERESTING_FLAGS.filter((f) => line.includes(f)));
    expect(profile.cpu.flags).toEqual(cpuFlagsFromCpuinfo(cpuinfo));
    expect(profile.tpm).toBe(existsSync("/dev/tpmrm0"));
    if (existsSync("/proc/device-tree/model")) {
      expect(profile.board).toEqual(boardFromDeviceTree(readFileSync("/proc/device-tree/model", "utf8")));
    }
    const { stdout } = await run("lsblk", [
      "--bytes",
      "--nodeps",
      "--noheadings",
      "--output",
      "PATH,SIZE,TYPE",
    ]);
    for (const disk of profile.disks) {
      const row = stdout.split("\n").find((l) => l.trim().startsWith(`${disk.path} `));
      expect(row?.trim().split(/\s+/)[1]).toBe(String(disk.sizeBytes));
    }
    // Every GPU found through drm is one of this machine's cards.
    const cards = await drmCards();
    expect(profile.gpus.filter((g) => g.source === "drm").length).toBeLessThanOrEqual(cards.length);
  });
});

describe("detection from a sysfs tree", () => {
  it("reads drm cards: an AMD card with VRAM, an Intel iGPU, and no connector entries", async () => {
    put("sys/class/drm/card0/device/vendor", "0x1002\n");
    put("sys/class/drm/card0/device/device", "0x73df\n");
    put("sys/class/drm/card0/device/mem_info_vram_total", "12868124672\n");
    put("sys/class/drm/card1/device/vendor", "0x8086\n");
    put("sys/class/drm/card1/device/device", "0x46d1\n");
    mkdirSync(path.join(fake, "sys/bus/pci/drivers/i915"), { recursive: true });
    symlinkSync(
      path.join(fake, "sys/bus/pci/drivers/i915"),
      path.join(fake, "sys/class/drm/card1/device/driver"),
    );
    put("sys/class/drm/card0-HDMI-A-1/status", "connected\n");
    const gpus = await detectGpus({ root: fake });
    expect(gpus.filter((g) => g.source === "drm")).toEqual([
      {
        vendor: "amd",
        model: null,
        vramBytes: 12868124672,
        pciId: "1002:73df",
        source: "drm",
        memoryBandwidthBytesPerSecond: null,
      },
      {
        vendor: "intel",
        model: null,
        vramBytes: null,
        pciId: "8086:46d1",
        source: "drm",
        memoryBandwidthBytesPerSecond: null,
      },
    ]);
  });

  it("reads the board from the device tree before DMI", async () => {
    put("sys/class/dmi/id/sys_vendor", "AZW\n");
    put("sys/class/dmi/id/product_name", "EQ12\n");
    expect(await detectBoard({ root: fake })).toEqual({ vendor: "AZW", model: "EQ12", revision: null });
    put("proc/device-tree/model", "Raspberry Pi 5 Model B Rev 1.0\0");
    expect(await detectBoard({ root: fake })).toEqual({
      vendor: "Raspberry Pi",
      model: "Raspberry Pi 5 Model B",
      revision: "1.0",
    });
  });
});
