import type { PrismaClient } from "../_server/generated/prisma/client";

/** Audit actions: a closed list, so the dashboard can name each in words. */
export const AUDIT_ACTIONS = {
  "setup.code.issued": "A setup code was issued",
  "setup.claim.failed": "A wrong setup code was entered",
  "setup.claim.refused": "A claim was refused (box already claimed or rate limited)",
  "setup.claimed": "The box was claimed",
  "login.succeeded": "Signed in",
  "login.failed": "A sign-in failed",
  logout: "Signed out",
  "totp.enabled": "Two-step sign-in turned on",
  "totp.disabled": "Two-step sign-in turned off",
  "plan.created": "A setup plan was created",
  "kit.confirmed": "The recovery kit was confirmed",
  "plan.applying": "Applying the plan started",
  "plan.retry": "A failed step was retried",
  "request.refused": "A request was refused by the host or origin check",
  "volume.unlocked": "The data volume was unlocked",
  "volume.unlock.failed": "A wrong passphrase was entered for the data volume",
  "terminal.ticket": "The password was confirmed to open the terminal",
  "terminal.ticket.failed": "A wrong password was entered to open the terminal",
  "terminal.opened": "The terminal was opened",
  "terminal.reattached": "The terminal was reattached after a reload",
  "terminal.closed": "The terminal was closed",
  "terminal.refused": "A terminal connection was refused",
  "node.restarted": "A node was restarted",
  "node.restart.failed": "A node restart failed",
  "backup.started": "A backup was started by hand",
  "backup.start.failed": "Starting a backup by hand failed",
  "setting.change": "A setting was changed from the dashboard (through the plan engine)",
} as const;
export type AuditAction = keyof typeof AUDIT_ACTIONS;

export async function audit(
  db: PrismaClient,
  event: {
    actor: "owner" | "system" | "anonymous";
    action: AuditAction;
    target?: string | null;
    detail?: Record<string, unknown>;
    remoteAddr?: string | null;
  },
): Promise<void> {
  await db.auditEvent.create({
    data: {
      actor: event.actor,
      action: event.action,
      target: event.target ?? null,
      detail: event.detail ? JSON.stringify(event.detail) : null,
      remoteAddr: event.remoteAddr ?? null,
    },
  });
}
