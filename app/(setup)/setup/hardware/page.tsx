import Link from "next/link";
import { hardware, readDraft, recommendation } from "../../../_server/setup";
import { formatBytes } from "../../../lib/format";
import { requireWizard } from "../_components/guard";
import { StepShell } from "../_components/step-shell";

export const metadata = { title: "Your hardware · Freehold" };

export default async function HardwarePage() {
  await requireWizard();
  const [profile, draft] = await Promise.all([hardware(), readDraft()]);
  const rec = await recommendation(draft);
  const gpu = profile.gpus[0];
  const dataDisks = profile.disks.filter((d) => !d.system);
  return (
    <StepShell step="hardware" title="Your hardware">
      <section className="card" aria-label="Summary" data-testid="hardware-summary">
        <p>
          This box is {rec ? <strong>{rec.device.label}</strong> : "a computer"} with a{" "}
          {profile.arch === "arm64" ? "64-bit ARM" : "64-bit x86"} processor
          {profile.cpu.model ? ` (${profile.cpu.model})` : ""}: {profile.cpu.cores} cores,{" "}
          {profile.cpu.threads} threads.
        </p>
        <p>
          It has <strong>{formatBytes(profile.memory.totalBytes)}</strong> of memory
          {gpu
            ? ` and a ${gpu.vendor} graphics card${gpu.vramBytes ? ` with ${formatBytes(gpu.vramBytes)} of its own memory` : ""}`
            : " and no graphics card that language models could use"}
          .
        </p>
        <p>
          {profile.disks.length === 0
            ? "No disks were found."
            : `${profile.disks.length} disk${profile.disks.length === 1 ? "" : "s"}: ${profile.disks
                .map(
                  (d) =>
                    `${d.model ?? d.path} (${formatBytes(d.sizeBytes)}${d.system ? ", holds the system" : ""})`,
                )
                .join("; ")}.`}{" "}
          {dataDisks.length === 0 &&
            "Data will go to the free space on the system disk unless you attach another."}
        </p>
        {profile.cpu.flags.includes("aes") || profile.cpu.flags.includes("asimd") ? (
          <p>The processor has AES instructions, so disk encryption costs little speed.</p>
        ) : (
          <p>The processor lacks AES instructions; encryption still works, a little slower.</p>
        )}
        {rec && (
          <p>
            Running what you choose next will draw about{" "}
            <strong>{Math.round(rec.energy.averageWatts)} W</strong> on average ({rec.energy.note}).
          </p>
        )}
      </section>
      <Link className="button" href="/setup/nodes">
        Continue
      </Link>
    </StepShell>
  );
}
