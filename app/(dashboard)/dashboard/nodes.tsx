"use client";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import type { LogLine, NodeReport, UnitState } from "../../_schemas/dashboard";
import { when } from "../../lib/format-time";
import type { NodeRestart } from "../../lib/node-restarts";

/** Installed nodes (state, health, restart) and Freehold's services, each with its log viewer. */

const PRIORITY = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

function stateWords(s: UnitState | undefined): { text: string; ok: boolean | null } {
  if (!s) return { text: "unknown", ok: null };
  if (s.active === "preview") return { text: "preview (not running here)", ok: null };
  return { text: `${s.active} (${s.sub})`, ok: s.active === "active" };
}

function State(props: { state: UnitState | undefined }) {
  const w = stateWords(props.state);
  return (
    <span
      className={w.ok === null ? "badge" : w.ok ? "badge ok" : "badge bad"}
      data-state={props.state?.active ?? "unknown"}
    >
      {w.text}
    </span>
  );
}

export function LogViewer(props: { unit: string; preview: boolean }) {
  const [open, setOpen] = useState(false);
  const [lines, setLines] = useState<LogLine[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const load = async () => {
    setBusy(true);
    setError(null);
    const r = await fetch(`/api/dashboard/logs?${new URLSearchParams({ unit: props.unit, lines: "100" })}`, {
      cache: "no-store",
    }).catch(() => null);
    const json = (await r?.json().catch(() => null)) as {
      ok?: boolean;
      lines?: LogLine[];
      message?: string;
    } | null;
    setBusy(false);
    if (json?.ok && json.lines) setLines(json.lines);
    else setError(json?.message ?? "The logs could not be read.");
  };
  const id = `logs-${props.unit.replace(/[^A-Za-z0-9]/g, "-")}`;
  return (
    <>
      <button
        type="button"
        className="small"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => {
          setOpen(!open);
          if (!open) void load();
        }}
      >
        {open ? "Hide logs" : "Logs"}
      </button>
      {open && (
        <section id={id} className="logs" aria-label={`Logs of ${props.unit}`} aria-live="polite">
          {busy && <p>Reading the journal…</p>}
          {error && (
            <p className="form-error" role="alert">
              {error}
            </p>
          )}
          {lines && lines.length === 0 && <p>No journal lines for {props.unit}.</p>}
          {lines && lines.length > 0 && (
            <pre data-testid="log-lines">
              {lines
                .map(
                  (l) =>
                    `${when(l.time)} ${l.priority === null ? "" : `${PRIORITY[l.priority]} `}${l.identifier ? `${l.identifier}: ` : ""}${l.message}`,
                )
                .join("\n")}
            </pre>
          )}
          {!props.preview && (
            <button type="button" className="small" onClick={() => void load()} disabled={busy}>
              Refresh
            </button>
          )}
        </section>
      )}
    </>
  );
}

/** What the dashboard says about a restart's state (GET /api/dashboard/nodes/restart?id=). */
function restartWords(name: string, r: NodeRestart): string {
  if (r.state === "restarting") return `Restarting ${name}… (a large node can take minutes to start)`;
  if (r.state === "failed") return r.message;
  return r.verified
    ? `${name} restarted and answers.`
    : `${name} restarted but does not answer yet: ${r.problems ?? "see its logs"}.`;
}

function RestartButton(props: { id: string; name: string; preview: boolean }) {
  const router = useRouter();
  const [restart, setRestart] = useState<NodeRestart | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const busy = restart?.state === "restarting";

  // The POST answers at once; the restart's state is polled until it is done or failed.
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(async () => {
      const r = await fetch(`/api/dashboard/nodes/restart?${new URLSearchParams({ id: props.id })}`, {
        cache: "no-store",
      }).catch(() => null);
      const json = (await r?.json().catch(() => null)) as {
        ok?: boolean;
        restart?: NodeRestart | null;
      } | null;
      if (!json?.ok || !json.restart) return;
      setRestart(json.restart);
      setMessage(restartWords(props.name, json.restart));
      if (json.restart.state !== "restarting") router.refresh();
    }, 2000);
    return () => clearInterval(timer);
  }, [busy, props.id, props.name, router]);

  return (
    <>
      <button
        type="button"
        className="small"
        disabled={busy || props.preview}
        title={props.preview ? "Preview mode: nothing runs here" : undefined}
        onClick={async () => {
          if (!window.confirm(`Restart ${props.name}? It is unavailable until it has started again.`)) return;
          setMessage(`Restarting ${props.name}…`);
          const r = await fetch("/api/dashboard/nodes/restart", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ id: props.id }),
          }).catch(() => null);
          const json = (await r?.json().catch(() => null)) as {
            ok?: boolean;
            restart?: NodeRestart;
            message?: string;
          } | null;
          if (json?.ok && json.restart) {
            setRestart(json.restart);
            setMessage(restartWords(props.name, json.restart));
          } else setMessage(json?.message ?? "The restart could not be started.");
        }}
      >
        {busy ? "Restarting…" : "Restart"}
      </button>
      <span role="status" className="help" data-testid={`restart-${props.id}`}>
        {message ?? ""}
      </span>
    </>
  );
}

export function NodesCard(props: { nodes: NodeReport[]; services: UnitState[]; preview: boolean }) {
  const stateOf = (unit: string) => props.services.find((s) => s.unit === unit);
  const nodeUnits = new Set(props.nodes.flatMap((n) => n.units));
  const own = props.services.filter((s) => !nodeUnits.has(s.unit) && s.load !== "not-found");
  return (
    <>
      {props.nodes.length === 0 ? (
        <p data-testid="nodes-empty">No nodes are installed.</p>
      ) : (
        <ul className="nodes" data-testid="nodes">
          {props.nodes.map((n) => {
            const healthy = n.problems.length === 0;
            return (
              <li key={n.id} data-node={n.id}>
                <h3>
                  {n.name}
                  {n.mode ? <span className="badge">{n.mode}</span> : null}{" "}
                  {props.preview ? (
                    <span className="badge">preview</span>
                  ) : (
                    <span
                      className={healthy ? "badge ok" : "badge bad"}
                      data-health={healthy ? "ok" : "problem"}
                    >
                      {healthy ? "healthy" : "needs attention"}
                    </span>
                  )}
                </h3>
                {!healthy && (
                  <ul className="problems">
                    {n.problems.map((p) => (
                      <li key={p}>{p}</li>
                    ))}
                  </ul>
                )}
                <RestartButton id={n.id} name={n.name} preview={props.preview} />
                <table>
                  <tbody>
                    {n.units.map((u) => (
                      <tr key={u}>
                        <td>
                          <code>{u}</code>
                        </td>
                        <td>
                          <State state={stateOf(u)} />
                        </td>
                        <td>
                          <LogViewer unit={u} preview={props.preview} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </li>
            );
          })}
        </ul>
      )}
      <h3>Freehold's services</h3>
      <table data-testid="services">
        <tbody>
          {own.map((s) => (
            <tr key={s.unit}>
              <td>
                <code>{s.unit}</code>
              </td>
              <td>
                <State state={s} />
              </td>
              <td>{s.since ? `since ${when(s.since)}` : ""}</td>
              <td>
                <LogViewer unit={s.unit} preview={props.preview} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
