import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { requireOwner } from "../_server/session";
import { setupStage } from "../_server/stage";

/** The dashboard: only for the signed-in owner, and only once setup is done. */
export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const stage = await setupStage();
  if (stage === "unclaimed") redirect("/setup");
  await requireOwner();
  if (stage !== "done") redirect("/setup/apply");
  return <main>{children}</main>;
}
