import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { setupStage } from "../_server/stage";

/** The wizard: closed for good once setup is done (every page redirects to the dashboard). */
export default async function SetupLayout({ children }: { children: ReactNode }) {
  if ((await setupStage()) === "done") redirect("/dashboard");
  return <main className="wizard">{children}</main>;
}
