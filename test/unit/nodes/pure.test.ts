import { describe, expect, it } from "vitest";
import type { CatalogNode } from "../../../app/_schemas/catalog";
import { HeaterSettingsSchema } from "../../../app/_schemas/mining";
import { NODES, nodeById } from "../../../app/lib/catalog/nodes";
import { orderNodes } from "../../../app/lib/catalog/order";
import { heatEstimate, heaterDecision, inWindow } from "../../../app/lib/mining/heater";
import { addSample, type Sample, transferStats } from "../../../app/lib/transfer/rate";

const node = (id: string) => {
  const n = nodeById(id);
  if (!n) throw new Error(id);
  return n;
};
const fake = (id: string, deps: string[]): CatalogNode => ({
  ...node("caddy"),
  id,
  dependsOn: deps.map((d) => ({ node: d, why: "test" })),
});

describe("install order", () => {
  it("puts Bitcoin Core before LND and electrs, Unbound before AdGuard Home, else keeps the order", () => {
    const r = orderNodes(
      ["lnd", "adguard-home", "electrs", "unbound", "bitcoin-core", "caddy"].map((id) => ({
        node: node(id),
      })),
    );
    if (!r.ok) throw new Error("not ok");
    expect(r.order.map((c) => c.node.id)).toEqual([
      "unbound",
      "adguard-home",
      "bitcoin-core",
      "lnd",
      "electrs",
      "caddy",
    ]);
  });

  it("reports missing dependencies and cycles", () => {
    expect(orderNodes([{ node: node("lnd") }])).toEqual({
      ok: false,
      missing: [{ node: "lnd", needs: "bitcoin-core" }],
      cycles: [],
    });
    const r = orderNodes([
      { node: fake("a", ["b"]) },
      { node: fake("b", ["c"]) },
      { node: fake("c", ["a"]) },
      { node: fake("d", []) },
    ]);
    expect(r).toEqual({ ok: false, missing: [], cycles: [["a", "b", "c", "a"]] });
  });

  it("orders the whole catalog", () => {
    const r = orderNodes(NODES.map((n) => ({ node: n })));
    expect(r.ok).toBe(true);
  });
});

describe("transfer rate and ETA", () => {
  it("measures over the recent window and computes what is left", () => {
    let s: Sample[] = [];
    for (let t = 0; t <= 20; t++)
      s = addSample(s, { atMs: t * 1000, bytes: t < 10 ? t * 1000 : 9000 + (t - 9) * 100 }, 5000);
    const stats = transferStats(s, 100_000, 5000);
    expect(stats.doneBytes).toBe(10_100);
    expect(stats.bytesPerSecond).toBe(100); // the slow last seconds, not the fast start
    expect(stats.etaSeconds).toBe(Math.ceil((100_000 - 10_100) / 100));
  });

  it("has no rate from one sample, no ETA without a total, and 0 when done", () => {
    expect(transferStats([{ atMs: 0, bytes: 5 }], 10)).toEqual({
      doneBytes: 5,
      totalBytes: 10,
      bytesPerSecond: null,
      etaSeconds: null,
    });
    const two = [
      { atMs: 0, bytes: 0 },
      { atMs: 2000, bytes: 10 },
    ];
    expect(transferStats(two, null)).toMatchObject({ bytesPerSecond: 5, etaSeconds: null });
    expect(transferStats(two, 10)).toMatchObject({ etaSeconds: 0 });
    expect(
      transferStats(
        [
          { atMs: 0, bytes: 0 },
          { atMs: 1000, bytes: 0 },
        ],
        10,
      ).etaSeconds,
    ).toBeNull();
  });
});

describe("mining as a heater", () => {
  const settings = HeaterSettingsSchema.parse({
    enabled: true,
    window: { start: "22:00", end: "06:00" },
    ceilingC: 80,
    hysteresisC: 5,
  });
  const at = (h: number, m = 0) => new Date(2026, 0, 15, h, m);

  it("runs only when on, inside the window (over midnight), below the ceiling", () => {
    expect(heaterDecision(settings, { now: at(23), temperatureC: 60, running: false })).toMatchObject({
      run: true,
    });
    expect(heaterDecision(settings, { now: at(5, 59), temperatureC: 60, running: true }).run).toBe(true);
    expect(heaterDecision(settings, { now: at(6), temperatureC: 60, running: true })).toMatchObject({
      run: false,
      reason: /outside the window 22:00–06:00/,
    });
    expect(
      heaterDecision({ ...settings, enabled: false }, { now: at(23), temperatureC: 40, running: false }),
    ).toMatchObject({ run: false, reason: /off/ });
    expect(heaterDecision(settings, { now: at(23), temperatureC: null, running: true })).toMatchObject({
      run: false,
      reason: /cannot be read/,
    });
  });

  it("stops at the ceiling and resumes only below ceiling − hysteresis", () => {
    expect(heaterDecision(settings, { now: at(23), temperatureC: 80, running: true })).toMatchObject({
      run: false,
      reason: /at or above the ceiling/,
    });
    expect(heaterDecision(settings, { now: at(23), temperatureC: 78, running: true }).run).toBe(true);
    expect(heaterDecision(settings, { now: at(23), temperatureC: 78, running: false })).toMatchObject({
      run: false,
      reason: /cools to 75 °C/,
    });
    expect(heaterDecision(settings, { now: at(23), temperatureC: 75, running: false }).run).toBe(true);
    expect(
      heaterDecision(
        { ...settings, window: null, ceilingC: null },
        { now: at(12), temperatureC: null, running: false },
      ).run,
    ).toBe(true);
  });

  it("tells windows apart and turns watts and hours into kWh of heat", () => {
    expect(inWindow(at(9), { start: "08:00", end: "17:00" })).toBe(true);
    expect(inWindow(at(17), { start: "08:00", end: "17:00" })).toBe(false);
    expect(inWindow(at(3), { start: "00:00", end: "00:00" })).toBe(true);
    expect(heatEstimate(65, 8, 0.3)).toEqual({
      kWh: 0.52,
      heatKWh: 0.52,
      heatMJ: 0.52 * 3.6,
      cost: 0.52 * 0.3,
    });
    expect(heatEstimate(100, 10).cost).toBeNull();
    expect(() => heatEstimate(-1, 1)).toThrow(RangeError);
  });
});
