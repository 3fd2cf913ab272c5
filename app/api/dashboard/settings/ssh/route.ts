import { NextResponse } from "next/server";
import { SshSettingSchema } from "../../../../_schemas/dashboard";
import { handler, problem } from "../../../../_server/http";
import { currentOwner } from "../../../../_server/session";
import {
  changeSshExposure,
  currentSshExposure,
  describeChange,
  latestChange,
  resumeChange,
  SettingBusyError,
  SettingRefusedError,
} from "../../../../_server/settings";
import { Throttle } from "../../../../lib/http/throttle";
import { noteUiRequest } from "../../../../lib/plan/reachability";

const throttle = new Throttle(10, 10 * 60_000);

/**
 * The SSH exposure in force and the latest SSH change (each step's state and log). The dashboard
 * polls this while a change applies, so it is also the browser's proof that the web UI is still
 * reachable through a new firewall (the agent executor then calls firewall.confirm).
 */
export async function GET(): Promise<Response> {
  if (!(await currentOwner())) return problem(401, "unauthenticated", "Sign in first.");
  noteUiRequest();
  await resumeChange();
  const [ssh, change] = await Promise.all([currentSshExposure(), latestChange("ssh")]);
  return NextResponse.json(
    { ok: true, ssh, change: describeChange(change) },
    { headers: { "cache-control": "no-store" } },
  );
}

/** SSH on the LAN or off: firewall.apply then ssh.configure, built as the wizard builds them. */
export const POST = handler(SshSettingSchema, { auth: true }, async ({ ssh }, { facts, session }) => {
  const wait = throttle.take("ssh");
  if (wait > 0) return problem(429, "rate-limited", `Try again in ${Math.ceil(wait / 1000)} s.`);
  try {
    const planId = await changeSshExposure(ssh, session.owner, facts.remoteAddr);
    return NextResponse.json({ ok: true, planId }, { status: 202 });
  } catch (error) {
    if (error instanceof SettingBusyError) return problem(409, "busy", error.message);
    if (error instanceof SettingRefusedError) return problem(409, "refused", error.message);
    throw error;
  }
});
