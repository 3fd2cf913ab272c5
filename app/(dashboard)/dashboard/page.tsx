import QRCode from "qrcode";
import { db } from "../../_server/db";
import { requireOwner } from "../../_server/session";
import { currentPlan } from "../../_server/setup";
import { volumeState } from "../../_server/volume";
import { AUDIT_ACTIONS, type AuditAction } from "../../lib/audit";
import { otpauthUri } from "../../lib/auth/totp";
import { LogoutButton, TotpControls } from "./account";
import { TerminalCard } from "./terminal";
import { VolumeCard } from "./volume";

export const metadata = { title: "Dashboard · Freehold" };

export default async function DashboardPage() {
  const session = await requireOwner();
  const [owner, plan, events, volume] = await Promise.all([
    db().owner.findUniqueOrThrow({ where: { id: session.owner.id } }),
    currentPlan(),
    db().auditEvent.findMany({ orderBy: { id: "desc" }, take: 20 }),
    volumeState(),
  ]);
  const pending = owner.totpPendingSecret;
  const qr = pending
    ? await QRCode.toString(otpauthUri(pending, owner.username), { type: "svg", margin: 1 })
    : null;
  return (
    <>
      <h1>Freehold</h1>
      <p className="lede" data-testid="dashboard-status">
        Setup is done{plan?.preview ? " (preview: nothing on this machine was changed)" : ""}. Signed in as{" "}
        {owner.username}.
      </p>
      <section className="card" aria-labelledby="volume-heading">
        <h2 id="volume-heading">Data</h2>
        <VolumeCard state={volume} />
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
        <table>
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
