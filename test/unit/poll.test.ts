import { describe, expect, it } from "vitest";
import { pollUntil } from "../../app/lib/poll";

describe("pollUntil", () => {
  it("returns the first value the check answers, after retrying", async () => {
    let calls = 0;
    const value = await pollUntil(() => (++calls === 3 ? `ready after ${calls}` : undefined), {
      timeoutMs: 5000,
      intervalMs: 1,
      timedOut: () => new Error("timed out"),
    });
    expect(value).toBe("ready after 3");
  });

  it("throws the caller's error once the deadline has passed, having checked at least once", async () => {
    let calls = 0;
    const started = Date.now();
    await expect(
      pollUntil(
        () => {
          calls++;
          return undefined;
        },
        { timeoutMs: 50, intervalMs: 5, timedOut: () => new Error(`gave up after ${calls} checks`) },
      ),
    ).rejects.toThrow(/gave up after \d+ checks/);
    expect(calls).toBeGreaterThan(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });

  it("stops at once when the check throws (QEMU exited)", async () => {
    let calls = 0;
    await expect(
      pollUntil(
        () => {
          calls++;
          throw new Error("QEMU exited");
        },
        { timeoutMs: 5000, intervalMs: 1, timedOut: () => new Error("timed out") },
      ),
    ).rejects.toThrow("QEMU exited");
    expect(calls).toBe(1);
  });
});
