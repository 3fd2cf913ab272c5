import { AgentOnlyInputSchemas } from "../../_schemas/ops";
import { type AgentOp, OpError } from "../host";
import { ensureFile } from "./common";
import { liveRulesetProblems } from "./firewall-apply";
import { CANDIDATE, disarmRollback, MARKER, NFT_CONF, readMarker, rollbackArmed } from "./firewall-rollback";
import { renderRuleset } from "./firewall-ruleset";

/**
 * firewall.confirm: the web UI answered through the new rules, so keep them: stop the rollback
 * timer first (it cannot fire while we decide), check the live rules are still the applied ones,
 * then persist them to /etc/nftables.conf for the next boot.
 */
export const firewallConfirm: AgentOp<(typeof AgentOnlyInputSchemas)["firewall.confirm"]> = {
  name: "firewall.confirm",
  input: AgentOnlyInputSchemas["firewall.confirm"],
  secrets: [],

  async run(_input, _secrets, host) {
    const marker = await readMarker(host);
    if (!marker) return { changed: false, verified: true, detail: { state: "nothing to confirm" } };
    const { lanInterfaces, ...input } = marker;
    await disarmRollback(host);
    if ((await liveRulesetProblems(host, input)).length > 0) {
      await host.removeFile(MARKER);
      await host.removeFile(CANDIDATE);
      throw new OpError(
        "the firewall change was rolled back: it was not confirmed in time",
        "Apply the firewall again from the dashboard and stay on the page until it is confirmed.",
      );
    }
    const content = renderRuleset(input, lanInterfaces);
    await ensureFile(host, NFT_CONF, content, 0o644);
    await host.removeFile(MARKER);
    await host.removeFile(CANDIDATE);
    const verified = (await host.readFile(NFT_CONF)) === content && !(await rollbackArmed(host));
    return { changed: true, verified, detail: { state: "persisted" } };
  },
};
