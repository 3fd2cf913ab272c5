import { redirect } from "next/navigation";
import { after } from "next/server";
import { currentOwner } from "../../_server/session";
import { prepareForClaim, setupStage } from "../../_server/stage";
import { readEnv } from "../../lib/env";
import { ClaimForm } from "./_components/claim-form";

export const metadata = { title: "Claim this box · Freehold" };

export default async function ClaimPage() {
  if ((await setupStage()) !== "unclaimed") {
    redirect((await currentOwner()) ? "/setup/hardware" : "/login");
  }
  after(prepareForClaim);
  const preview = readEnv().FREEHOLD_MODE === "preview";
  return (
    <>
      <h1>Claim this box</h1>
      <p className="lede">Whoever enters the setup code first becomes the box's only owner.</p>
      {preview && (
        <section className="card preview-banner" aria-label="Preview mode">
          <strong>Preview mode.</strong> The setup code was printed by the server and written to
          <code> .cache/preview/setup-code</code> beside the preview database.
        </section>
      )}
      <section className="card">
        <ClaimForm />
      </section>
    </>
  );
}
