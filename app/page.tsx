import { redirect } from "next/navigation";
import { connection } from "next/server";
import { readSetupStage } from "./lib/db/setup-stage";
import { readEnv } from "./lib/env";
import { formatBytes } from "./lib/format";
import { detectHardware } from "./lib/hardware/detect";

const DISK_KIND_LABEL = {
  sd: "SD card",
  usb: "USB",
  sata: "SATA",
  nvme: "NVMe",
  virtio: "virtual",
  other: "other",
} as const;

/**
 * The address the console shows. On the box it is one redirect to a page that answers: the claim
 * page until someone owns the box, then the login (which sends a signed-in owner on to the wizard
 * or the dashboard). The box's hardware is for its owner (the wizard's hardware step, the
 * dashboard), not for whoever is on the network, and detecting it (lscpu, lsblk, dmidecode) would
 * hold up the first page a new owner waits for. The preview shows the developer's own machine here.
 */
export default async function Home() {
  await connection();
  const env = readEnv();
  const claimed = readSetupStage(env.databaseFile) !== "unclaimed";
  if (env.FREEHOLD_MODE === "appliance") redirect(claimed ? "/login" : "/setup");
  const hardware = await detectHardware();
  const { cpu, memory, disks } = hardware;

  return (
    <main>
      <h1>Freehold</h1>
      <p className="lede">Your own server, set up from this page.</p>

      {env.FREEHOLD_MODE === "preview" && (
        <section className="card preview-banner" aria-label="Preview mode">
          <strong>Preview mode.</strong> Hardware detection is real; nothing on this machine will be changed.
        </section>
      )}

      <section className="card" aria-labelledby="cpu-heading">
        <h2 id="cpu-heading">Processor</h2>
        <dl>
          <dt>Model</dt>
          <dd data-testid="cpu-model">{cpu.model ?? "unknown"}</dd>
          <dt>Cores</dt>
          <dd data-testid="cpu-cores">
            {cpu.cores} cores, {cpu.threads} threads
          </dd>
          <dt>Architecture</dt>
          <dd data-testid="cpu-arch">{hardware.arch}</dd>
          <dt>Features</dt>
          <dd>{cpu.flags.length > 0 ? cpu.flags.join(", ") : "none detected"}</dd>
        </dl>
      </section>

      <section className="card" aria-labelledby="memory-heading">
        <h2 id="memory-heading">Memory</h2>
        <p data-testid="memory-total" data-bytes={memory.totalBytes}>
          {formatBytes(memory.totalBytes)}
        </p>
      </section>

      <section className="card" aria-labelledby="disks-heading">
        <h2 id="disks-heading">Disks</h2>
        {disks.length === 0 ? (
          <p>No disks detected.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Device</th>
                <th>Model</th>
                <th>Size</th>
                <th>Kind</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {disks.map((disk) => (
                <tr key={disk.path} data-testid="disk-row">
                  <td>{disk.path}</td>
                  <td>{disk.model ?? "unknown"}</td>
                  <td data-bytes={disk.sizeBytes}>{formatBytes(disk.sizeBytes)}</td>
                  <td>{DISK_KIND_LABEL[disk.kind]}</td>
                  <td>
                    {disk.system && <span className="badge">system</span>}{" "}
                    {disk.removable && <span className="badge">removable</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="card" aria-labelledby="claim-heading">
        <h2 id="claim-heading">Setup</h2>
        <p data-testid="claim-state">{claimed ? "This box has an owner." : "Not claimed yet."}</p>
        <p>
          <a className="button" href={claimed ? "/login" : "/setup"}>
            {claimed ? "Sign in" : "Claim this box"}
          </a>
        </p>
      </section>
    </main>
  );
}
