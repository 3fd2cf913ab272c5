import { AgentOnlyInputSchemas } from "../../_schemas/ops";
import { type AgentOp, OpError } from "../host";
import { isMapperMount, mountedAt, readRecord, START_MOUNT } from "./data-volume";
import { MAPPER_PATH, openVolume } from "./luks";

/**
 * volume.unlock: after a reboot the encrypted data volume stays locked until the owner types the
 * passphrase (or the recovery key) in the web UI; this opens it and starts the mount.
 */
export const volumeUnlock: AgentOp<(typeof AgentOnlyInputSchemas)["volume.unlock"]> = {
  name: "volume.unlock",
  input: AgentOnlyInputSchemas["volume.unlock"],
  secrets: ["disk.passphrase"],

  async run(_input, secrets, host) {
    const record = await readRecord(host);
    if (!record?.encrypted) throw new OpError("there is no encrypted data volume on this box");
    const key = secrets["disk.passphrase"];
    if (!key) throw new OpError("no passphrase was passed");
    let changed = false;
    if (!(await host.exists(MAPPER_PATH))) {
      await openVolume(host, record.device, key);
      changed = true;
    }
    if (!(await mountedAt(host))) {
      await host.run(START_MOUNT);
      changed = true;
    }
    const mounted = await mountedAt(host);
    return {
      changed,
      verified: isMapperMount(mounted),
      detail: { state: isMapperMount(mounted) ? "unlocked" : "locked", mounted: mounted?.source ?? null },
    };
  },
};
