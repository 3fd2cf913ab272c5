import { amd64 } from "./amd64";
import { arm64 } from "./arm64";
import { rpi } from "./rpi";
import { type Target, type TargetName, TargetSchema } from "./schema";

export const TARGETS = { amd64, arm64, rpi } as const;

/** The validated target (throws a ZodError naming the bad field). */
export function getTarget(name: TargetName): Target {
  return TargetSchema.parse(TARGETS[name]);
}
