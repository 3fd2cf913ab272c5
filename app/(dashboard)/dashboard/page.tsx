import QRCode from "qrcode";
import type { UpdatePolicy } from "../../_schemas/dashboard";
import { backupStatus, installedNodes, systemStatus } from "../../_server/dashboard";
import { db } from "../../_server/db";
import { requireOwner } from "../../_server/session";
import {
  currentSshExposure,
  currentUpdatePolicy,
  describeChange,
  latestChange,
  resumeChange,
} from "../../_server/settings";
import { currentPlan } from "../../_server/setup";
import { volumeState } from "../../_server/volume";
import { AUDIT_ACTIONS, type AuditAction } from "../../lib/audit";
import { otpauthUri } from "../../lib/auth/totp";
import { catalogNodes } from "../../lib/catalog/local";
import { when } from "../../lib/format-time";
import { sampler } from "../../lib/metrics/sampler";
import { describePort } from "../../lib/system/firewall";
import { BACKUP_SERVICE } from "../../lib/system/units";
import { LogoutButton, TotpControls } from "./account";
import { AddNodeCard } from "./add-node";
import { BackupsCard } from "./backups";
import { NodesCard } from "./nodes";
import { ResourcesCard } from "./resources";
import { SshSettingForm } from "./ssh";
import { TerminalCard } from "./terminal";
import { UpdatePolicyForm } from "./updates";
import { VolumeCard } from "./volume";

export const metadata = { title: "Dashboard · Freehold" };

/** What the wizard proposes when no updates.configure step has run yet. */
const DEFAULT_POLICY: UpdatePolicy = {
  security: "automatic",
  reboot: "window",
  rebootTime: "04:00",
  apps: "manual",
};

export default async function DashboardPage() {
  const session = await requireOwner();
  await resumeChange();
  const metrics = sampler();
  const [
    owner,
    plan,
    events,
    volume,
    status,
    backup,
    policy,
    change,
    ssh,
    sshChange,
    installed,
    nodesChange,
  ] = await Promise.all([
    db().owner.findUniqueOrThrow({ where: { id: session.owner.id } }),
    currentPlan(),
    db().auditEvent.findMany({ orderBy: { id: "desc" }, take: 20 }),
    volumeState(),
    systemStatus(),
    backupStatus(),
    currentUpdatePolicy(),
    latestChange("updates"),
    currentSshExposure(),
    latestChange("ssh"),
    installedNodes(),
    latestChange("nodes"),
  ]);
  const catalog = catalogNodes();
  const installedIds = new Set(installed.map((n) => n.id));
  // As on the wizard's nodes page: Ollama comes with a model, not on its own.
  const available = catalog
    .filter((n) => !installedIds.has(n.id) && n.id !== "ollama")
    .map((n) => ({ id: n.id, name: n.name, summary: n.summary, local: n.origin === "local" }));
  const pending = owner.totpPendingSecret;
  const qr = pending
    ? await QRCode.toString(otpauthUri(pending, owner.username), { type: "svg", margin: 1 })
    : null;
  const system = status.value;
  const updates = system?.updates;
  const firewall = system?.firewall;
  const security = updates?.pending?.filter((u) => u.security).length ?? 0;
  const backupRunning =
    system?.services.some((s) => s.unit === BACKUP_SERVICE && s.active === "activating") ?? false;
  const step = change?.steps[0];
  return (
    <>
      <h1>Freehold</h1>
      <p className="lede" data-testid="dashboard-status">
        Setup is done{plan?.preview ? " (preview: nothing on this machine was changed)" : ""}. Signed in as{" "}
        {owner.username}.
      </p>
      {status.preview && (
        <p className="card preview-banner" data-testid="preview-banner">
          Preview mode: this machine is not a Freehold box, so there is no agent to ask. Nodes, services,
          updates, firewall and backups below are <strong>preview data</strong> made from your setup plan; the
          resource charts are this machine's real figures.
        </p>
      )}
      {status.error && (
        <p className="card alert" role="alert">
          The box's status could not be read: {status.error}
        </p>
      )}

      <section className="card" aria-labelledby="nodes-heading" data-testid="card-nodes">
        <h2 id="nodes-heading">Nodes and services</h2>
        {system && <NodesCard nodes={system.nodes} services={system.services} preview={status.preview} />}
      </section>

      <section className="card" aria-labelledby="add-node-heading" data-testid="card-add-node">
        <h2 id="add-node-heading">Add a node</h2>
        <AddNodeCard
          available={available}
          names={Object.fromEntries(catalog.map((n) => [n.id, n.name]))}
          change={describeChange(nodesChange)}
        />
      </section>

      <section className="card" aria-labelledby="resources-heading" data-testid="card-resources">
        <h2 id="resources-heading">Resources</h2>
        <ResourcesCard initial={{ points: metrics.points(), latest: metrics.latest }} />
      </section>

      <section className="card" aria-labelledby="volume-heading" data-testid="card-encryption">
        <h2 id="volume-heading">Data and encryption</h2>
        <VolumeCard state={volume} />
      </section>

      <section className="card" aria-labelledby="backups-heading" data-testid="card-backups">
        <h2 id="backups-heading">Backups</h2>
        <BackupsCard backup={backup} running={backupRunning} />
      </section>

      <section className="card" aria-labelledby="updates-heading" data-testid="card-updates">
        <h2 id="updates-heading">Updates</h2>
        {updates && (
          <dl data-testid="updates">
            <dt>Pending</dt>
            <dd data-testid="updates-pending">
              {status.preview
                ? "preview: apt is not asked on this machine"
                : updates.pending === null
                  ? `unknown (${updates.error ?? "apt did not answer"})`
                  : updates.pending.length === 0
                    ? "none: the box is up to date"
                    : `${updates.pending.length} package${updates.pending.length === 1 ? "" : "s"}${security ? `, ${security} of them security updates` : ""}`}
            </dd>
            <dt>Last automatic run</dt>
            <dd>
              {updates.lastRun
                ? `${when(updates.lastRun.at)}: ${
                    {
                      installed: `installed ${updates.lastRun.packages.length} package(s)`,
                      nothing: "nothing to install",
                      failed: "FAILED (see the logs of apt-daily-upgrade.service)",
                      incomplete: "running or cut short",
                    }[updates.lastRun.result]
                  }`
                : "none recorded"}
            </dd>
            <dt>Last applied</dt>
            <dd>{when(updates.lastAppliedAt)}</dd>
            <dt>Restart needed</dt>
            <dd data-testid="reboot-required">
              {updates.rebootRequired
                ? `yes${updates.rebootPackages.length ? ` (for ${updates.rebootPackages.join(", ")})` : ""}`
                : "no"}
            </dd>
          </dl>
        )}
        <h3>Update policy</h3>
        <UpdatePolicyForm
          policy={policy ?? DEFAULT_POLICY}
          change={
            change
              ? {
                  id: change.id,
                  status: change.status,
                  preview: change.preview,
                  step: step ? { op: step.op, state: step.state, error: step.error, log: step.log } : null,
                }
              : null
          }
        />
      </section>

      <section className="card" aria-labelledby="firewall-heading" data-testid="card-firewall">
        <h2 id="firewall-heading">Firewall</h2>
        {status.preview && <p className="help">Preview: the firewall your setup plan loads.</p>}
        {firewall === null || firewall === undefined ? (
          <p>{system ? "No firewall summary: nft could not be asked (or no plan in preview)." : ""}</p>
        ) : !firewall.present ? (
          <p className="alert" role="alert">
            Freehold's firewall is not loaded: inbound traffic is not filtered.
          </p>
        ) : (
          <dl data-testid="firewall">
            <dt>Inbound</dt>
            <dd data-testid="firewall-policy">
              {firewall.inputPolicy === "drop"
                ? "dropped unless listed below"
                : `policy ${firewall.inputPolicy}`}
            </dd>
            <dt>Local network only</dt>
            <dd>{firewall.lan.map(describePort).join(", ") || "nothing"}</dd>
            <dt>Open to the internet</dt>
            <dd data-testid="firewall-internet">
              {firewall.internet.map(describePort).join(", ") || "nothing"}
            </dd>
          </dl>
        )}
      </section>

      <section className="card" aria-labelledby="ssh-heading" data-testid="card-ssh">
        <h2 id="ssh-heading">SSH access</h2>
        <SshSettingForm ssh={ssh} change={describeChange(sshChange)} />
      </section>

      <section className="card" aria-labelledby="terminal-heading">
        <h2 id="terminal-heading">Terminal</h2>
        <TerminalCard />
      </section>
      <section className="card" aria-labelledby="security-heading">
        <h2 id="security-heading">Two-step sign-in</h2>
        <TotpControls enabled={owner.totpSecret !== null} pendingSecret={pending} qrSvg={qr} />
      </section>
      <section className="card" aria-labelledby="audit-heading">
        <h2 id="audit-heading">Recent events</h2>
        <table aria-labelledby="audit-heading">
          <tbody>
            {events.map((e) => (
              <tr key={e.id}>
                <td>{e.at.toISOString().replace("T", " ").slice(0, 19)}</td>
                <td>{AUDIT_ACTIONS[e.action as AuditAction] ?? e.action}</td>
                <td>{e.remoteAddr ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <LogoutButton />
    </>
  );
}
