import type { HeaterSettings } from "../../_schemas/mining";

/**
 * XMRig as a heater: it mines only when the owner turned it on, inside the time window, and below
 * the CPU temperature ceiling (with hysteresis, so it does not flap around the ceiling). Pure: the
 * caller reads the clock and the temperature and starts or stops the unit.
 */

export interface HeaterState {
  now: Date;
  /** The hottest CPU sensor in °C; null when none can be read. */
  temperatureC: number | null;
  /** Whether XMRig is running now (hysteresis depends on it). */
  running: boolean;
}

export type HeaterDecision = { run: boolean; reason: string };

const minutes = (hhmm: string) => {
  const [h = 0, m = 0] = hhmm.split(":").map(Number);
  return h * 60 + m;
};

/** Inside [start, end) in local time; over midnight when end <= start (start === end: all day). */
export function inWindow(now: Date, window: { start: string; end: string }): boolean {
  const t = now.getHours() * 60 + now.getMinutes();
  const start = minutes(window.start);
  const end = minutes(window.end);
  if (start === end) return true;
  return start < end ? t >= start && t < end : t >= start || t < end;
}

export function heaterDecision(settings: HeaterSettings, state: HeaterState): HeaterDecision {
  if (!settings.enabled) return { run: false, reason: "mining is off (the owner has not turned it on)" };
  if (settings.window && !inWindow(state.now, settings.window))
    return { run: false, reason: `outside the window ${settings.window.start}–${settings.window.end}` };
  const ceiling = settings.ceilingC;
  if (ceiling !== null) {
    const t = state.temperatureC;
    if (t === null)
      return { run: false, reason: "the CPU temperature cannot be read, so the ceiling cannot be kept" };
    if (t >= ceiling)
      return { run: false, reason: `CPU at ${t} °C, at or above the ceiling of ${ceiling} °C` };
    const resumeBelow = ceiling - settings.hysteresisC;
    if (!state.running && t > resumeBelow)
      return {
        run: false,
        reason: `CPU at ${t} °C: waiting until it cools to ${resumeBelow} °C (ceiling ${ceiling} °C − ${settings.hysteresisC} °C)`,
      };
  }
  const where = settings.window ? ` inside ${settings.window.start}–${settings.window.end}` : "";
  const temp = ceiling !== null ? `, CPU at ${state.temperatureC} °C below ${ceiling} °C` : "";
  return { run: true, reason: `turned on${where}${temp}` };
}

export interface HeatEstimate {
  kWh: number;
  /** All the electricity a miner draws ends up as heat in the room: heat out = electricity in. */
  heatKWh: number;
  heatMJ: number;
  cost: number | null;
}

export function heatEstimate(watts: number, hours: number, priceKwh: number | null = null): HeatEstimate {
  if (!(watts >= 0) || !(hours >= 0)) throw new RangeError("watts and hours must be zero or more");
  const kWh = (watts * hours) / 1000;
  return { kWh, heatKWh: kWh, heatMJ: kWh * 3.6, cost: priceKwh === null ? null : kWh * priceKwh };
}
