import { redirect } from "next/navigation";
import { currentOwner } from "../_server/session";
import { setupStage } from "../_server/stage";
import { LoginForm } from "./login-form";

export const metadata = { title: "Sign in · Freehold" };

export default async function LoginPage() {
  const stage = await setupStage();
  if (stage === "unclaimed") redirect("/setup");
  if (await currentOwner()) redirect(stage === "done" ? "/dashboard" : "/setup/hardware");
  return (
    <main>
      <h1>Sign in</h1>
      <section className="card">
        <LoginForm next={stage === "done" ? "/dashboard" : "/setup/hardware"} />
      </section>
    </main>
  );
}
