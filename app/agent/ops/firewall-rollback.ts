import { z } from "zod";
import { OpInputSchemas } from "../../_schemas/ops";
import type { Host } from "../host";
import { AGENT_STATE_DIR } from "../paths";
import { IFNAME } from "./firewall-ruleset";

/**
 * A firewall change that could lock the owner out is made in two steps:
 * 1. firewall.apply loads the new rules from a candidate file, after arming a transient timer that
 *    reloads the previous `table inet filter` in CONFIRM_WITHIN_S seconds, and leaves a marker
 *    (what was applied). /etc/nftables.conf (loaded at boot) is not touched yet.
 * 2. firewall.confirm, called by the web UI once it proved reachable through the new rules, stops
 *    the timer and persists the rules to /etc/nftables.conf. Had the timer fired, the live rules
 *    are the old ones again and confirm says so; nothing unconfirmed ever reaches the boot config.
 */

export const NFT_CONF = "/etc/nftables.conf";
export const CANDIDATE = `${AGENT_STATE_DIR}/nftables.pending.nft`;
export const MARKER = `${AGENT_STATE_DIR}/firewall-pending.json`;
export const ROLLBACK_FILE = `${AGENT_STATE_DIR}/nftables.rollback.nft`;
export const ROLLBACK_UNIT = "freehold-firewall-rollback";
export const CONFIRM_WITHIN_S = 120;

export const ARM_ROLLBACK = [
  "systemd-run",
  `--unit=${ROLLBACK_UNIT}`,
  `--on-active=${CONFIRM_WITHIN_S}`,
  "--collect",
  "--",
  "/usr/sbin/nft",
  "-f",
  ROLLBACK_FILE,
];
export const DISARM_ROLLBACK = [
  "systemctl",
  "stop",
  "--",
  `${ROLLBACK_UNIT}.timer`,
  `${ROLLBACK_UNIT}.service`,
];
/** The previous table, restorable on its own (declare + delete makes it replace whatever is there). */
export const LIST_TABLE = ["nft", "list", "table", "inet", "filter"];
export const rollbackContent = (table: string) => `table inet filter\ndelete table inet filter\n${table}`;

export const MarkerSchema = OpInputSchemas["firewall.apply"].extend({
  lanInterfaces: z.array(z.string().regex(IFNAME)).max(32),
});
export type Marker = z.infer<typeof MarkerSchema>;

export async function readMarker(host: Host): Promise<Marker | null> {
  const text = await host.readFile(MARKER);
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = MarkerSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export async function rollbackArmed(host: Host): Promise<boolean> {
  const r = await host.run(["systemctl", "is-active", "--", `${ROLLBACK_UNIT}.timer`], {
    okCodes: [0, 3, 4],
  });
  return r.code === 0;
}

/**
 * Saves the table to roll back to and arms the timer. While a rollback is already armed the saved
 * table is the last confirmed one, so it is kept (only the timer restarts).
 */
export async function armRollback(host: Host, armed: boolean): Promise<void> {
  if (armed) {
    await disarmRollback(host);
  } else {
    const table = await host.run(LIST_TABLE, { okCodes: [0, 1] });
    await host.writeFile(ROLLBACK_FILE, rollbackContent(table.code === 0 ? table.stdout : ""), 0o600);
  }
  await host.run(ARM_ROLLBACK);
}

export async function disarmRollback(host: Host): Promise<void> {
  // 5: not loaded (nothing armed, or --collect already unloaded it).
  await host.run(DISARM_ROLLBACK, { okCodes: [0, 5] });
}
