"use client";
import { useEffect, useState } from "react";

interface Step {
  position: number;
  op: string;
  state: "pending" | "running" | "done" | "failed";
  attempts: number;
  error: string | null;
  log: string;
}
interface Progress {
  status: "draft" | "applying" | "done" | "failed";
  steps: Step[];
}

const STATE_LABEL = { pending: "waiting", running: "running", done: "done", failed: "failed" } as const;

/** Polls the plan's progress; the engine keeps running on the box whether or not this page is open. */
export function ApplyProgress({ titles }: { titles: string[] }) {
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick re-polls
  useEffect(() => {
    let stop = false;
    fetch("/api/setup/plan", { cache: "no-store" })
      .then((r) => r.json())
      .then((data: Progress & { ok: boolean; message?: string }) => {
        if (stop) return;
        if (!data.ok) setError(data.message ?? "No plan.");
        else {
          setError(null);
          setProgress(data);
        }
      })
      .catch(() => !stop && setError("The box did not answer; retrying…"));
    const timer = setTimeout(() => setTick((t) => t + 1), 700);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [tick]);

  async function retry(position: number) {
    await fetch("/api/setup/retry", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ position }),
    });
    setTick((t) => t + 1);
  }

  const done = progress?.steps.filter((s) => s.state === "done").length ?? 0;
  return (
    <>
      <p
        role="status"
        aria-live="polite"
        data-testid="plan-status"
        data-status={progress?.status ?? "loading"}
      >
        {error ??
          (progress
            ? progress.status === "done"
              ? `All ${progress.steps.length} steps are done and verified.`
              : progress.status === "failed"
                ? "A step failed. Read its log, then retry it."
                : `${done} of ${progress.steps.length} steps done…`
            : "Loading…")}
      </p>
      {progress && (
        <progress max={progress.steps.length} value={done} aria-label="Steps done">
          {done}/{progress.steps.length}
        </progress>
      )}
      <ol className="plan">
        {progress?.steps.map((s) => (
          <li key={s.position} data-testid="apply-step" data-state={s.state} data-op={s.op}>
            <span className={`badge state-${s.state}`}>{STATE_LABEL[s.state]}</span> <strong>{s.op}</strong>:{" "}
            {titles[s.position] ?? ""}
            {s.error && (
              <p className="field-error" role="alert">
                {s.error}{" "}
                <button type="button" onClick={() => void retry(s.position)}>
                  Retry this step
                </button>
              </p>
            )}
            {s.log && (
              <details open={s.state === "running" || s.state === "failed"}>
                <summary>Log{s.attempts > 1 ? ` (${s.attempts} attempts)` : ""}</summary>
                <pre className="commands">{s.log}</pre>
              </details>
            )}
          </li>
        ))}
      </ol>
      {progress?.status === "done" && (
        <a className="button" href="/dashboard">
          Go to the dashboard
        </a>
      )}
    </>
  );
}
