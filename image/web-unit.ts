/**
 * freehold-web.service's command line, read from the unit the image carries: the image build
 * records the code cache with it (V8 accepts its cache only under the same flags) and
 * bench-web-start profiles it, so neither keeps a copy that could drift from what the box runs.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export const WEB_UNIT = "overlays/common/usr/lib/systemd/system/freehold-web.service";

/** The unit's ExecStart as an argv (it quotes nothing and expands no variables). */
export function webExecStart(repoRoot: string): string[] {
  const unit = readFileSync(path.join(repoRoot, WEB_UNIT), "utf8");
  const line = unit.split("\n").find((l) => l.startsWith("ExecStart=/usr/bin/node "));
  if (!line) throw new Error(`${WEB_UNIT} has no ExecStart=/usr/bin/node line`);
  return line.slice("ExecStart=".length).trim().split(/\s+/);
}
