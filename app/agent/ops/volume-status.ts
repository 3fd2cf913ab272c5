import { AgentOnlyInputSchemas } from "../../_schemas/ops";
import type { AgentOp } from "../host";
import { mountedAt, readRecord } from "./data-volume";
import { MAPPER_PATH } from "./luks";

/**
 * volume.status (read-only): absent (no data volume yet), locked, unlocked (mounted), or
 * unmounted (open or plain, but not mounted), for the dashboard.
 */
export const volumeStatus: AgentOp<(typeof AgentOnlyInputSchemas)["volume.status"]> = {
  name: "volume.status",
  input: AgentOnlyInputSchemas["volume.status"],
  secrets: [],
  readOnly: true,

  async run(_input, _secrets, host) {
    const record = await readRecord(host);
    const mounted = await mountedAt(host);
    const locked = record?.encrypted === true && !(await host.exists(MAPPER_PATH));
    const state = !record ? "absent" : locked ? "locked" : mounted ? "unlocked" : "unmounted";
    return {
      changed: false,
      verified: true,
      detail: { state, encrypted: record?.encrypted ?? null, mounted: mounted?.source ?? null },
    };
  },
};
