import { describe, expect, it } from "vitest";
import { noteUiRequest, waitForUiRequest } from "../../../app/lib/plan/reachability";

describe("web UI reachability after a firewall change", () => {
  it("waits for a browser request that arrives after the rules were loaded", async () => {
    const loadedAt = Date.now();
    const waiting = waitForUiRequest(loadedAt, 5_000);
    setTimeout(() => noteUiRequest(loadedAt + 10), 50);
    expect(await waiting).toBe(true);
  });

  it("does not count a request from before the change, and gives up after the timeout", async () => {
    noteUiRequest(1_000);
    const started = Date.now();
    expect(await waitForUiRequest(2_000_000_000_000, 200)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });
});
