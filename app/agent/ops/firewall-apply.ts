import { z } from "zod";
import { OpInputSchemas } from "../../_schemas/ops";
import { runs, writes } from "../command";
import { type Host, OpError } from "../host";
import type { PlanAgentOp } from "./common";
import {
  ARM_ROLLBACK,
  armRollback,
  CANDIDATE,
  CONFIRM_WITHIN_S,
  MARKER,
  NFT_CONF,
  ROLLBACK_FILE,
  readMarker,
  rollbackArmed,
} from "./firewall-rollback";
import { type FirewallInput, IFNAME, liveProblems, renderRuleset } from "./firewall-ruleset";

/**
 * firewall.apply: renders the ruleset, checks it with `nft -c`, arms the rollback, loads it, and
 * verifies the live ruleset (input policy drop, each planned port where planned). The web UI then
 * calls firewall.confirm, which persists it to /etc/nftables.conf (see firewall-rollback.ts).
 */

const CHECK = ["nft", "-c", "-f", CANDIDATE];
const LOAD = ["nft", "-f", CANDIDATE];
export const LIST_JSON = ["nft", "-j", "list", "ruleset"];

const LinkSchema = z.array(z.object({ ifname: z.string(), link_type: z.string().optional() }));
/** Bridges and veths of containers are not the LAN. */
const VIRTUAL = /^(?:podman|veth|cni|docker|br-|virbr|ifb|dummy|wg|tun|tap)/;

/** The box's Ethernet and Wi-Fi interfaces: where LAN traffic over IPv6 may arrive. */
export async function lanInterfaces(host: Host): Promise<string[]> {
  const r = await host.run(["ip", "-j", "link", "show"]);
  return LinkSchema.parse(JSON.parse(r.stdout))
    .filter((l) => l.link_type === "ether" && IFNAME.test(l.ifname) && !VIRTUAL.test(l.ifname))
    .map((l) => l.ifname)
    .sort();
}

export async function liveRulesetProblems(host: Host, input: FirewallInput): Promise<string[]> {
  return liveProblems((await host.run(LIST_JSON)).stdout, input);
}

const sameMarker = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export const firewallApply: PlanAgentOp<"firewall.apply"> = {
  name: "firewall.apply",
  input: OpInputSchemas["firewall.apply"],
  secrets: [],

  /** The interfaces are the box's own; the preview shows the rules without them. */
  preview: (input) => [
    writes(CANDIDATE, 0o600, renderRuleset(input)),
    runs(CHECK),
    writes(MARKER, 0o600, "(what was applied, until firewall.confirm)"),
    writes(ROLLBACK_FILE, 0o600, "(the current table inet filter)"),
    runs(ARM_ROLLBACK),
    runs(LOAD),
  ],

  async run(input, _secrets, host) {
    const ifaces = await lanInterfaces(host);
    const content = renderRuleset(input, ifaces);
    const marker = { ...input, lanInterfaces: ifaces };
    const armed = await rollbackArmed(host);
    const live = await liveRulesetProblems(host, input);
    const persisted = (await host.readFile(NFT_CONF)) === content;
    const pending = armed && sameMarker(await readMarker(host), marker);
    const done = live.length === 0 && (persisted || pending);

    if (!done) {
      await host.writeFile(CANDIDATE, content, 0o600);
      const check = await host.run(CHECK, { okCodes: [0, 1] });
      if (check.code !== 0) {
        await host.removeFile(CANDIDATE);
        throw new OpError(`nft -c rejects the rules: ${check.stderr.trim().split("\n").at(-1) ?? ""}`);
      }
      await host.writeFile(MARKER, `${JSON.stringify(marker)}\n`, 0o600);
      await armRollback(host, armed);
      await host.run(LOAD);
    }

    const after = await liveRulesetProblems(host, input);
    const unconfirmed = (await host.readFile(NFT_CONF)) !== content;
    return {
      changed: !done,
      verified: after.length === 0,
      detail: {
        lanInterfaces: ifaces.join(",") || null,
        lan: input.lan.length,
        internet: input.internet.length,
        confirm: unconfirmed
          ? `within ${CONFIRM_WITHIN_S} s (firewall.confirm), else the previous rules return`
          : "persisted",
        ...(after.length > 0 ? { problems: after.join(", ") } : {}),
      },
    };
  },
};
