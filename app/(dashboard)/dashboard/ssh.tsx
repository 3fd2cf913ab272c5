"use client";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

type Ssh = "off" | "lan";

interface Step {
  op: string;
  state: string;
  error: string | null;
  log: string;
}

interface Change {
  id: string;
  status: string;
  preview: boolean;
  steps: Step[];
}

const STEP_WORDS: Record<string, string> = {
  "firewall.apply": "Firewall (kept only once this page answers through it)",
  "ssh.configure": "SSH server",
};

/**
 * SSH for the owner's account, changed through the plan engine: saving creates a change plan with
 * the wizard's firewall.apply and ssh.configure steps; this form follows it (its polling is also
 * what lets the new firewall be confirmed) until every step is verified or one failed.
 */
export function SshSettingForm(props: { ssh: Ssh | null; change: Change | null }) {
  const router = useRouter();
  const [change, setChange] = useState(props.change);
  const [error, setError] = useState<string | null>(null);
  const [choice, setChoice] = useState<Ssh>(props.ssh ?? "lan");
  const applying = change?.status === "applying";

  useEffect(() => {
    if (!applying) return;
    const timer = setInterval(async () => {
      const r = await fetch("/api/dashboard/settings/ssh", { cache: "no-store" }).catch(() => null);
      const json = (await r?.json().catch(() => null)) as { ok?: boolean; change?: Change | null } | null;
      if (json?.ok && json.change) {
        setChange(json.change);
        if (json.change.status !== "applying") router.refresh();
      }
    }, 1000);
    return () => clearInterval(timer);
  }, [applying, router]);

  const failed = change?.steps.find((s) => s.state === "failed");
  return (
    <form
      method="post"
      data-testid="ssh-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        const r = await fetch("/api/dashboard/settings/ssh", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ssh: choice }),
        }).catch(() => null);
        const json = (await r?.json().catch(() => null)) as {
          ok?: boolean;
          planId?: string;
          message?: string;
        } | null;
        if (json?.ok && json.planId)
          setChange({ id: json.planId, status: "applying", preview: false, steps: [] });
        else setError(json?.message ?? "The change could not be started.");
      }}
    >
      <p data-testid="ssh-current">
        Now:{" "}
        {props.ssh === null
          ? "not known (no SSH step has finished yet)"
          : props.ssh === "lan"
            ? "on, from the local network (port 22/tcp)"
            : "off (port 22 closed)"}
        .
      </p>
      <fieldset>
        <legend>SSH for your account</legend>
        <label className="option">
          <input
            type="radio"
            name="ssh"
            value="lan"
            checked={choice === "lan"}
            onChange={() => setChoice("lan")}
          />{" "}
          From the local network
        </label>
        <label className="option">
          <input
            type="radio"
            name="ssh"
            value="off"
            checked={choice === "off"}
            onChange={() => setChoice("off")}
          />{" "}
          Off
        </label>
      </fieldset>
      <p className="help" data-testid="ssh-consequence">
        {choice === "off"
          ? "Off closes port 22 and stops the SSH server: ssh, scp and SSH port forwards to the box stop working. You keep this dashboard (with its Terminal) from the local network, and you can turn SSH on again here."
          : "From the local network opens port 22/tcp to your LAN only (never the internet), for your account alone: with the key you gave the wizard if you gave one, else with your password."}{" "}
        As in the wizard, the firewall changes first and stays only if this page still reaches the box through
        it (keep this page open until it is done); otherwise the previous rules come back by themselves.
      </p>
      <p className="form-error" role="alert">
        {error ?? ""}
      </p>
      <button type="submit" disabled={applying}>
        {applying ? "Applying…" : "Save the SSH setting"}
      </button>
      {change && (
        <div role="status" data-testid="ssh-change" data-status={change.status}>
          <p>
            {change.status === "applying"
              ? "Applying the change (plan steps: firewall.apply, then ssh.configure)…"
              : change.status === "done"
                ? `Applied and verified${change.preview ? " (preview: nothing on this machine was changed)" : ""}.`
                : `The change failed${failed?.error ? `: ${failed.error}` : ""}.`}
          </p>
          {change.steps.length > 0 && (
            <ol data-testid="ssh-change-steps">
              {change.steps.map((s) => (
                <li key={s.op} data-op={s.op} data-state={s.state}>
                  {STEP_WORDS[s.op] ?? s.op}: {s.state}
                </li>
              ))}
            </ol>
          )}
          {change.steps.some((s) => s.log) ? (
            <details>
              <summary>What the steps did</summary>
              <pre>{change.steps.map((s) => `# ${s.op}\n${s.log}`).join("\n")}</pre>
            </details>
          ) : null}
        </div>
      )}
    </form>
  );
}
