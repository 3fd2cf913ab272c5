import { z } from "zod";

/** Mining as a heater: the owner's switch, an optional time window and a CPU temperature ceiling. */

const Time = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/);

export const HeaterSettingsSchema = z.strictObject({
  /** Off unless the owner turns it on. */
  enabled: z.boolean(),
  /** Local time; a window that ends before it starts runs over midnight (22:00–06:00). */
  window: z.strictObject({ start: Time, end: Time }).nullable(),
  /** Stop at or above this CPU temperature (°C); null: no ceiling. */
  ceilingC: z.number().min(30).max(105).nullable(),
  /** After a stop for heat, resume only once the CPU is this much below the ceiling. */
  hysteresisC: z.number().min(0).max(30).default(5),
});
export type HeaterSettings = z.infer<typeof HeaterSettingsSchema>;
