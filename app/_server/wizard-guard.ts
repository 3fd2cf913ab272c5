import "server-only";
import { problem } from "./http";
import { setupStage } from "./stage";

/** Setup route handlers answer 403 unless the box is claimed and setup is not finished. */
export async function wizardClosed(): Promise<Response | null> {
  const stage = await setupStage();
  if (stage === "wizard") return null;
  return problem(
    403,
    "closed",
    stage === "done" ? "Setup is finished; use the dashboard." : "Claim the box first.",
  );
}
