"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";

const WORDS: Record<string, string> = {
  absent: "No data volume is set up.",
  locked:
    "Locked: the data volume stays closed after a restart until you unlock it. Nodes that keep data on it wait.",
  unlocked: "Unlocked and mounted at /srv/freehold.",
  unmounted: "Open but not mounted.",
  unknown: "Unknown: the agent did not answer.",
};

/** The data volume's state; when locked, the passphrase (or recovery key) form that opens it. */
export function VolumeCard(props: { state: string }) {
  const router = useRouter();
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <p data-testid="volume-state" data-state={props.state}>
        {WORDS[props.state] ?? props.state}
      </p>
      {props.state === "locked" ? (
        <form
          method="post"
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            const passphrase = new FormData(e.currentTarget).get("passphrase");
            const response = await fetch("/api/dashboard/volume", {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ passphrase }),
            });
            const result = (await response.json().catch(() => ({}))) as { ok?: boolean; message?: string };
            setBusy(false);
            setMessage(result.ok ? null : (result.message ?? "Failed."));
            if (result.ok) router.refresh();
          }}
        >
          <label htmlFor="volume-passphrase">Disk passphrase or recovery key</label>
          <input id="volume-passphrase" name="passphrase" type="password" autoComplete="off" required />
          <p className="form-error" role="alert">
            {message ?? ""}
          </p>
          <button type="submit" disabled={busy}>
            {busy ? "Unlocking…" : "Unlock"}
          </button>
        </form>
      ) : null}
    </>
  );
}
