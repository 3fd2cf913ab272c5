"use client";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import type { UpdatePolicy } from "../../_schemas/dashboard";

interface Change {
  id: string;
  status: string;
  preview: boolean;
  step: { op: string; state: string; error: string | null; log: string } | null;
}

/**
 * The update policy, changed through the plan engine: saving creates a one-step plan
 * (updates.configure) and this form follows it until the step is verified or failed.
 */
export function UpdatePolicyForm(props: { policy: UpdatePolicy; change: Change | null }) {
  const router = useRouter();
  const [change, setChange] = useState(props.change);
  const [error, setError] = useState<string | null>(null);
  const [reboot, setReboot] = useState(props.policy.reboot);
  const applying = change?.status === "applying";

  useEffect(() => {
    if (!applying) return;
    const timer = setInterval(async () => {
      const r = await fetch("/api/dashboard/settings/updates", { cache: "no-store" }).catch(() => null);
      const json = (await r?.json().catch(() => null)) as { ok?: boolean; change?: Change | null } | null;
      if (json?.ok && json.change) {
        setChange(json.change);
        if (json.change.status !== "applying") router.refresh();
      }
    }, 1000);
    return () => clearInterval(timer);
  }, [applying, router]);

  return (
    <form
      method="post"
      data-testid="updates-form"
      onSubmit={async (e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const body = {
          security: f.get("security"),
          reboot: f.get("reboot"),
          rebootTime: f.get("rebootTime"),
          apps: f.get("apps"),
        };
        setError(null);
        const r = await fetch("/api/dashboard/settings/updates", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        }).catch(() => null);
        const json = (await r?.json().catch(() => null)) as {
          ok?: boolean;
          planId?: string;
          message?: string;
        } | null;
        if (json?.ok && json.planId)
          setChange({ id: json.planId, status: "applying", preview: false, step: null });
        else setError(json?.message ?? "The change could not be started.");
      }}
    >
      <fieldset>
        <legend>Security updates</legend>
        <label className="option">
          <input
            type="radio"
            name="security"
            value="automatic"
            defaultChecked={props.policy.security === "automatic"}
          />{" "}
          Install them automatically
        </label>
        <label className="option">
          <input
            type="radio"
            name="security"
            value="notify"
            defaultChecked={props.policy.security === "notify"}
          />{" "}
          Only tell me here
        </label>
      </fieldset>
      <fieldset>
        <legend>Restarts after an update that needs one</legend>
        <label className="option">
          <input
            type="radio"
            name="reboot"
            value="window"
            checked={reboot === "window"}
            onChange={() => setReboot("window")}
          />{" "}
          Restart by itself at
        </label>
        <label htmlFor="reboot-time">Restart time</label>
        <input
          id="reboot-time"
          name="rebootTime"
          type="time"
          defaultValue={props.policy.rebootTime}
          required
          disabled={reboot !== "window"}
        />
        {reboot !== "window" && <input type="hidden" name="rebootTime" value={props.policy.rebootTime} />}
        <label className="option">
          <input
            type="radio"
            name="reboot"
            value="never"
            checked={reboot === "never"}
            onChange={() => setReboot("never")}
          />{" "}
          Never restart by itself
        </label>
      </fieldset>
      <fieldset>
        <legend>App (container) updates</legend>
        <label className="option">
          <input
            type="radio"
            name="apps"
            value="automatic"
            defaultChecked={props.policy.apps === "automatic"}
          />{" "}
          Automatic
        </label>
        <label className="option">
          <input type="radio" name="apps" value="manual" defaultChecked={props.policy.apps === "manual"} />{" "}
          Manual
        </label>
      </fieldset>
      <p className="form-error" role="alert">
        {error ?? ""}
      </p>
      <button type="submit" disabled={applying}>
        {applying ? "Applying…" : "Save the update policy"}
      </button>
      {change && (
        <div role="status" data-testid="updates-change" data-status={change.status}>
          <p>
            {change.status === "applying"
              ? "Applying the change (one plan step: updates.configure)…"
              : change.status === "done"
                ? `Applied and verified${change.preview ? " (preview: nothing on this machine was changed)" : ""}.`
                : `The change failed${change.step?.error ? `: ${change.step.error}` : ""}.`}
          </p>
          {change.step?.log ? (
            <details>
              <summary>What the step did</summary>
              <pre>{change.step.log}</pre>
            </details>
          ) : null}
        </div>
      )}
    </form>
  );
}
