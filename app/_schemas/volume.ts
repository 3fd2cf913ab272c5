import { z } from "zod";
import { DiskPassphraseSchema } from "./wizard";

/** The data volume as the dashboard shows it (the agent's volume.status). */
export const VolumeStateSchema = z.enum(["absent", "locked", "unlocked", "unmounted"]);
export type VolumeState = z.infer<typeof VolumeStateSchema>;

/** POST /api/dashboard/volume: the passphrase (or the recovery key) that opens the data volume. */
export const UnlockVolumeSchema = z.strictObject({
  passphrase: z.union([DiskPassphraseSchema, z.string().regex(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){7}$/)]),
});
