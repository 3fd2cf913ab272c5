import "server-only";
import { type VolumeState, VolumeStateSchema } from "../_schemas/volume";
import { readEnv } from "../lib/env";
import { agentCall } from "../lib/plan/agent-executor";

/**
 * The data volume's state from the agent (appliance) — in preview mode there is no volume. After a
 * reboot an encrypted volume is "locked" until the owner unlocks it here; services that keep their
 * data on it wait for the mount.
 */
export async function volumeState(): Promise<VolumeState | "unknown"> {
  if (readEnv().FREEHOLD_MODE !== "appliance") return "absent";
  try {
    const answer = await agentCall("volume.status", {}, {}, { timeoutMs: 30_000 });
    const parsed = VolumeStateSchema.safeParse(answer.detail?.state);
    return parsed.success ? parsed.data : "unknown";
  } catch (error) {
    console.error(`freehold-web: volume.status failed: ${(error as Error).message}`);
    return "unknown";
  }
}

/** Opens the volume with the passphrase (sent to the agent as a secret, never logged). */
export async function unlockVolume(passphrase: string): Promise<void> {
  await agentCall("volume.unlock", {}, { "disk.passphrase": passphrase }, { timeoutMs: 5 * 60_000 });
}
