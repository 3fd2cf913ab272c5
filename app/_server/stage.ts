import "server-only";
import { isClaimed } from "../lib/auth/claim";
import { readSetupStage, type SetupStage } from "../lib/db/setup-stage";
import { readEnv } from "../lib/env";
import { db } from "./db";

// Apart from the wizard's own module (./setup.ts): the claim page, the layouts and the login page
// import this, and so do not load the plan builder, the catalog and the recommender with it.

/** unclaimed → (claim) → wizard → (plan applied, every step verified) → done (app/lib/db/setup-stage.ts). */
export async function setupStage(): Promise<SetupStage> {
  return readSetupStage(readEnv().databaseFile);
}

/**
 * Starts Prisma's client (its query compiler) and compiles the claim's first queries, after a claim
 * page that answered without it (app/lib/db/setup-stage.ts): the owner types the setup code
 * meanwhile, and the claim does not wait for it. A failure here is the claim's to report.
 */
export async function prepareForClaim(): Promise<void> {
  try {
    await isClaimed(db());
  } catch (error) {
    console.warn(`freehold-web: the database client did not start ahead of the claim: ${String(error)}`);
  }
}
