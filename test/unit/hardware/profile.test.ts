import { afterEach, describe, expect, it, vi } from "vitest";
import type { HardwareProfile } from "../../../app/_schemas/hardware";
import { HARDWARE_PROFILE_MAX_AGE_MS, hardwareProfile } from "../../../app/lib/hardware/profile";

const CACHE = Symbol.for("freehold.hardware-profile");
const profile = (threads: number) => ({ arch: "amd64", cpu: { threads } }) as unknown as HardwareProfile;

afterEach(() => {
  delete (globalThis as Record<symbol, unknown>)[CACHE];
});

describe("the shared hardware profile", () => {
  it("detects once a minute at most, and again after that", async () => {
    let clock = 1_000_000;
    let detections = 0;
    const detect = async () => profile(++detections);
    const now = () => clock;
    expect((await hardwareProfile(now, detect)).cpu.threads).toBe(1);
    clock += HARDWARE_PROFILE_MAX_AGE_MS;
    expect((await hardwareProfile(now, detect)).cpu.threads).toBe(1);
    clock += 1;
    expect((await hardwareProfile(now, detect)).cpu.threads).toBe(2);
    expect(detections).toBe(2);
  });

  it("hands callers that come while a detection runs the same one", async () => {
    let detections = 0;
    let finish: (p: HardwareProfile) => void = () => {};
    const detect = () => {
      detections++;
      return new Promise<HardwareProfile>((resolve) => {
        finish = resolve;
      });
    };
    const first = hardwareProfile(Date.now, detect);
    const second = hardwareProfile(Date.now, detect);
    finish(profile(4));
    expect(await second).toBe(await first);
    expect(detections).toBe(1);
  });

  it("does not keep a failed detection", async () => {
    let detections = 0;
    const detect = async () => {
      detections++;
      if (detections === 1) throw new Error("lsblk: not found");
      return profile(8);
    };
    await expect(hardwareProfile(Date.now, detect)).rejects.toThrow("lsblk");
    expect((await hardwareProfile(Date.now, detect)).cpu.threads).toBe(8);
  });

  it("is one cache for every copy of the module in the process (server bundle and page chunks)", async () => {
    const detect = vi.fn(async () => profile(2));
    const started = hardwareProfile(Date.now, detect);
    vi.resetModules();
    const other = await import("../../../app/lib/hardware/profile");
    const again = vi.fn(async () => profile(3));
    expect(other.hardwareProfile(Date.now, again)).toBe(started);
    expect(again).not.toHaveBeenCalled();
  });
});
