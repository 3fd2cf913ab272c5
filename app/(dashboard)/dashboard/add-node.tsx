"use client";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

export interface AvailableNode {
  id: string;
  name: string;
  summary: string;
  /** Added by the owner on this box (local nodes file), not reviewed by Freehold. */
  local: boolean;
}

interface Step {
  op: string;
  state: string;
  error: string | null;
  log: string;
  /** node.install: the node's id. */
  node?: string | null;
}

interface Change {
  id: string;
  status: string;
  preview: boolean;
  steps: Step[];
}

const stepWords = (s: Step, names: Record<string, string>) =>
  s.op === "firewall.apply"
    ? "Firewall (kept only once this page answers through it)"
    : s.op === "node.install" && s.node
      ? `Install ${names[s.node] ?? s.node}`
      : s.op;

/**
 * "Add a node" after setup, through the plan engine: the chosen nodes (and what they need) get the
 * wizard's node.install steps, then the firewall is rebuilt with their ports; this card follows the
 * change plan (its polling is also what lets the new firewall be confirmed) until it is done.
 */
export function AddNodeCard(props: {
  available: AvailableNode[];
  names: Record<string, string>;
  change: Change | null;
}) {
  const router = useRouter();
  const [change, setChange] = useState(props.change);
  const [error, setError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const applying = change?.status === "applying";

  useEffect(() => {
    if (!applying) return;
    const timer = setInterval(async () => {
      const r = await fetch("/api/dashboard/nodes/add", { cache: "no-store" }).catch(() => null);
      const json = (await r?.json().catch(() => null)) as {
        ok?: boolean;
        change?: Change | null;
      } | null;
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
      data-testid="add-node-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        const r = await fetch("/api/dashboard/nodes/add", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ids: chosen }),
        }).catch(() => null);
        const json = (await r?.json().catch(() => null)) as {
          ok?: boolean;
          planId?: string;
          message?: string;
        } | null;
        if (json?.ok && json.planId) {
          setChosen([]);
          setChange({ id: json.planId, status: "applying", preview: false, steps: [] });
        } else setError(json?.message ?? "The nodes could not be added.");
      }}
    >
      {props.available.length === 0 ? (
        <p>Every node in the catalog is installed.</p>
      ) : (
        <fieldset>
          <legend>Nodes not on this box yet</legend>
          <ul className="choices">
            {props.available.map((n) => (
              <li key={n.id}>
                <label className="option">
                  <input
                    type="checkbox"
                    name="node"
                    value={n.id}
                    checked={chosen.includes(n.id)}
                    onChange={(e) =>
                      setChosen(e.target.checked ? [...chosen, n.id] : chosen.filter((id) => id !== n.id))
                    }
                  />{" "}
                  <strong>{n.name}</strong>{" "}
                  {n.local && (
                    <span className="badge">added by you on this box, not reviewed by Freehold</span>
                  )}
                </label>
                <p className="help">{n.summary}</p>
              </li>
            ))}
          </ul>
        </fieldset>
      )}
      <p className="help">
        What a node needs is added with it, in the mode the wizard would choose for this hardware; a node that
        does not fit here is refused with the reason. Its ports open as the setup's network choices say (the
        local network unless you chose otherwise), and the firewall changes last and stays only if this page
        still reaches the box through it (keep this page open until it is done).
      </p>
      <p className="form-error" role="alert">
        {error ?? ""}
      </p>
      <button type="submit" disabled={applying || chosen.length === 0}>
        {applying ? "Adding…" : "Add a node"}
      </button>
      {change && (
        <div role="status" data-testid="add-node-change" data-status={change.status}>
          <p>
            {change.status === "applying"
              ? "Adding (plan steps: node.install for each node, then firewall.apply)…"
              : change.status === "done"
                ? `Added and verified${change.preview ? " (preview: nothing on this machine was changed)" : ""}.`
                : `Adding failed${failed?.error ? `: ${failed.error}` : ""}.`}
          </p>
          {change.steps.length > 0 && (
            <ol data-testid="add-node-steps">
              {change.steps.map((s, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: the steps of one plan, in their fixed order
                <li key={i} data-op={s.op} data-state={s.state}>
                  {stepWords(s, props.names)}: {s.state}
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
