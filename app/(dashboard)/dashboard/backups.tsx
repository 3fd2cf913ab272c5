"use client";
import { useEffect, useState } from "react";
import type { BackupDetail, SystemStatus } from "../../_schemas/dashboard";
import { when } from "../../lib/format-time";
import { BACKUP_SERVICE } from "../../lib/system/units";

type Read<T> = { preview: boolean; value: T | null; error: string | null };

const ok = (v: boolean | null) => (v === null ? "" : v ? " (passed)" : " (FAILED)");

/**
 * Backups: last success, next run, last check and restore drill, the alert after 24 h without a
 * success, and "Back up now", which starts freehold-backup.service and then follows it here
 * (polling /api/dashboard/status every 10 s while it runs).
 */
export function BackupsCard(props: { backup: Read<BackupDetail>; running: boolean }) {
  const [backup, setBackup] = useState(props.backup);
  const [running, setRunning] = useState(props.running);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!running) return;
    const timer = setInterval(async () => {
      const r = await fetch("/api/dashboard/status?fresh=1", { cache: "no-store" }).catch(() => null);
      const json = (await r?.json().catch(() => null)) as {
        ok?: boolean;
        backup?: Read<BackupDetail>;
        system?: Read<SystemStatus>;
      } | null;
      if (!json?.ok) return;
      if (json.backup) setBackup(json.backup);
      const unit = json.system?.value?.services.find((s) => s.unit === BACKUP_SERVICE);
      if (unit && unit.active !== "activating" && unit.active !== "active") {
        setRunning(false);
        setMessage("The backup has finished; see the result above.");
      }
    }, 10_000);
    return () => clearInterval(timer);
  }, [running]);

  const b = backup.value;
  if (backup.error) return <p role="alert">The backup status could not be read: {backup.error}</p>;
  if (!b) return null;
  return (
    <>
      {backup.preview && (
        <p className="help" data-testid="backups-preview">
          Preview: backups run on the appliance only{b.configured ? " (the plan sets them up)" : ""}.
        </p>
      )}
      {b.alert && (
        <p className="alert" role="alert" data-testid="backup-alert">
          {b.alert}
        </p>
      )}
      <dl data-testid="backups">
        <dt>Set up</dt>
        <dd>{b.configured ? (b.repository ?? "yes") : "no"}</dd>
        <dt>Last success</dt>
        <dd>
          {when(b.lastSuccessAt)}
          {b.lastSnapshot ? ` (snapshot ${b.lastSnapshot.slice(0, 8)})` : ""}
        </dd>
        {b.lastAttemptOk === false && (
          <>
            <dt>Last attempt</dt>
            <dd>
              {when(b.lastAttemptAt)} failed{b.lastAttemptMessage ? `: ${b.lastAttemptMessage}` : ""}
            </dd>
          </>
        )}
        <dt>Next backup</dt>
        <dd>{running ? "running now" : b.nextBackup ? when(b.nextBackup) : "not scheduled"}</dd>
        <dt>Last integrity check</dt>
        <dd>
          {when(b.lastCheckAt)}
          {ok(b.lastCheckOk)}
          {b.lastCheckReadData ? `, read ${b.lastCheckReadData}` : ""}
        </dd>
        <dt>Last restore drill</dt>
        <dd>
          {when(b.lastDrillAt)}
          {ok(b.lastDrillOk)}
          {b.lastDrillMessage && b.lastDrillOk === false ? `: ${b.lastDrillMessage}` : ""}
        </dd>
      </dl>
      <button
        type="button"
        disabled={busy || running || backup.preview || !b.configured}
        onClick={async () => {
          setBusy(true);
          setMessage("Starting the backup…");
          const r = await fetch("/api/dashboard/backup", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "{}",
          }).catch(() => null);
          const json = (await r?.json().catch(() => null)) as { ok?: boolean; message?: string } | null;
          setBusy(false);
          if (json?.ok) {
            setRunning(true);
            setMessage("The backup is running; this page follows it. You can leave it.");
          } else setMessage(json?.message ?? "The backup could not be started.");
        }}
      >
        {running ? "Backing up…" : "Back up now"}
      </button>
      <p role="status" className="help">
        {message ?? ""}
      </p>
    </>
  );
}
