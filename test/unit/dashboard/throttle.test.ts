import { describe, expect, it } from "vitest";
import { Throttle } from "../../../app/lib/http/throttle";

describe("the action throttle", () => {
  it("allows `limit` actions per window and per key, then says how long to wait", () => {
    const t = new Throttle(2, 60_000);
    expect(t.take("node:tor", 0)).toBe(0);
    expect(t.take("node:tor", 10_000)).toBe(0);
    expect(t.take("node:tor", 20_000)).toBe(40_000);
    expect(t.take("node:caddy", 20_000)).toBe(0);
    expect(t.take("node:tor", 60_000)).toBe(0); // the first one left the window
    expect(t.take("node:tor", 60_001)).toBe(9_999);
  });
});
