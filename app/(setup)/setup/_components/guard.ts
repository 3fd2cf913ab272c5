import "server-only";
import { redirect } from "next/navigation";
import { requireOwner } from "../../../_server/session";
import { setupStage } from "../../../_server/stage";

/** Wizard steps after the claim: the owner, signed in, while setup is not finished. */
export async function requireWizard() {
  const stage = await setupStage();
  if (stage === "unclaimed") redirect("/setup");
  if (stage === "done") redirect("/dashboard");
  return requireOwner();
}
