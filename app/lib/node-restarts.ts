/**
 * Restarts of nodes started from the dashboard, followed in the web app's process: the request that
 * asks for one returns at once (a slow unit can keep `systemctl restart` busy for minutes), and the
 * page polls the restart's state. One restart per node at a time; the last outcome of each node is
 * kept until the next restart. Not persisted: after a restart of the web app the node's state on the
 * dashboard (units, health) tells the rest.
 */

export type NodeRestart =
  | { id: string; state: "restarting"; startedAt: string }
  | {
      id: string;
      state: "done";
      startedAt: string;
      finishedAt: string;
      /** The node's units are active and its health checks pass. */
      verified: boolean;
      problems: string | null;
    }
  | { id: string; state: "failed"; startedAt: string; finishedAt: string; message: string };

export interface RestartOutcome {
  verified: boolean;
  problems: string | null;
}

export class NodeRestarts {
  private readonly jobs = new Map<string, NodeRestart>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  get(id: string): NodeRestart | null {
    return this.jobs.get(id) ?? null;
  }

  /**
   * Starts `run` unless a restart of this node is still going; `settled` resolves with the final
   * state (never rejects: a failure becomes state "failed" with `failure(error)` as its message).
   */
  start(
    id: string,
    run: () => Promise<RestartOutcome>,
    failure: (error: unknown) => string,
  ): { restart: NodeRestart; started: boolean; settled: Promise<NodeRestart> } {
    const current = this.jobs.get(id);
    if (current?.state === "restarting")
      return { restart: current, started: false, settled: Promise.resolve(current) };
    const startedAt = this.now().toISOString();
    const restart: NodeRestart = { id, state: "restarting", startedAt };
    this.jobs.set(id, restart);
    const settled = (async (): Promise<NodeRestart> => {
      let final: NodeRestart;
      try {
        const outcome = await run();
        final = { id, state: "done", startedAt, finishedAt: this.now().toISOString(), ...outcome };
      } catch (error) {
        final = {
          id,
          state: "failed",
          startedAt,
          finishedAt: this.now().toISOString(),
          message: failure(error),
        };
      }
      this.jobs.set(id, final);
      return final;
    })();
    return { restart, started: true, settled };
  }
}

const shared = globalThis as unknown as { freeholdNodeRestarts?: NodeRestarts };

/** The process-wide restarts (route handlers share them, like the plan runners). */
export function nodeRestarts(): NodeRestarts {
  shared.freeholdNodeRestarts ??= new NodeRestarts();
  return shared.freeholdNodeRestarts;
}

/** A failed restart in words: the agent's message, the units, and what to try next. */
export function restartFailureMessage(name: string, units: readonly string[], message: string): string {
  const unit = units[0];
  const next = unit
    ? ` Next: open the logs of ${unit} below (or run systemctl status ${unit} in the Terminal); restart it again once it is active or failed.`
    : "";
  return `Restarting ${name}${units.length > 0 ? ` (${units.join(", ")})` : ""} failed: ${message.replace(/\.$/, "")}.${next}`;
}
