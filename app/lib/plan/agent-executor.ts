import { randomUUID } from "node:crypto";
import net from "node:net";
import {
  AGENT_MAX_LINE,
  type AgentFailure,
  type AgentProblem,
  type AgentRequest,
  AgentResponseSchema,
  type AgentSecrets,
  type AgentSuccess,
  agentOpTimeoutMs,
} from "../../_schemas/agent";
import type { PlanStepInput } from "../../_schemas/ops";
import { readEnv } from "../env";
import { LineReader } from "../ndjson";
import type { Executor, StepContext, StepOutcome } from "./engine";
import { waitForUiRequest } from "./reachability";

/**
 * The web app's side of the agent protocol (app/_schemas/agent.ts): one connection per call to
 * FREEHOLD_AGENT_SOCKET, one request line, progress lines until the final answer. The plan engine
 * uses it through `agentExecutor()` in appliance mode; the dashboard calls `agentCall` directly.
 */

export class AgentError extends Error {
  override name = "AgentError";
  constructor(
    message: string,
    /** The agent's problem code; "unreachable" when no answer came (socket missing, agent died). */
    readonly problem: AgentProblem | "unreachable",
    readonly hint?: string,
    readonly issues?: AgentFailure["issues"],
  ) {
    super(message);
  }
}

export interface AgentCallOptions {
  /** Default: FREEHOLD_AGENT_SOCKET. */
  socketPath?: string;
  /** Each progress line of the op, in order; the call resolves after the last one settled. */
  onProgress?: (message: string) => void | Promise<void>;
  /** Give up waiting for the final answer after this long (default: the agent's limit + 2 min). */
  timeoutMs?: number;
}

export function unreachableMessage(socketPath: string): string {
  return `the agent is not reachable at ${socketPath}: is freehold-agent.socket active? (systemctl status freehold-agent.socket)`;
}

function failureError(f: AgentFailure): AgentError {
  const issues = f.issues?.length
    ? `: ${f.issues
        .slice(0, 5)
        .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
        .join("; ")}`
    : "";
  const hint = f.hint ? ` (${f.hint})` : "";
  return new AgentError(`${f.message}${issues}${hint}`, f.problem, f.hint, f.issues);
}

/** Runs one agent op and returns its verified outcome; throws AgentError when it did not succeed. */
export function agentCall(
  op: string,
  input: unknown,
  secrets: AgentSecrets = {},
  options: AgentCallOptions = {},
): Promise<AgentSuccess> {
  const socketPath = options.socketPath ?? readEnv().FREEHOLD_AGENT_SOCKET;
  const id = randomUUID();
  const request: AgentRequest = { id, op, input };
  if (Object.keys(secrets).length > 0) request.secrets = secrets;
  const line = `${JSON.stringify(request)}\n`;
  if (Buffer.byteLength(line) > AGENT_MAX_LINE) {
    return Promise.reject(
      new AgentError(`the ${op} request is larger than the agent accepts`, "invalid-input"),
    );
  }

  return new Promise<AgentSuccess>((resolve, reject) => {
    let connected = false;
    let settled = false;
    let progress: Promise<void> = Promise.resolve();
    const socket = net.connect(socketPath);
    const timer = setTimeout(
      () => done(new AgentError(`the agent did not answer ${op} in time`, "unreachable")),
      options.timeoutMs ?? agentOpTimeoutMs(op) + 120_000,
    );

    const done = (outcome: AgentError | AgentSuccess) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      // Every progress line reaches the log before the call returns.
      progress.then(
        () => (outcome instanceof AgentError ? reject(outcome) : resolve(outcome)),
        (error: unknown) => reject(error),
      );
    };

    const reader = new LineReader(
      AGENT_MAX_LINE,
      (text) => {
        let parsed: ReturnType<typeof AgentResponseSchema.safeParse>;
        try {
          parsed = AgentResponseSchema.safeParse(JSON.parse(text));
        } catch {
          return done(new AgentError("the agent answered with something that is not JSON", "internal-error"));
        }
        if (!parsed.success) {
          return done(new AgentError("the agent's answer does not match the protocol", "internal-error"));
        }
        const response = parsed.data;
        if (response.id !== id && response.id !== null) return; // not ours
        if ("event" in response) {
          const { onProgress } = options;
          if (onProgress) progress = progress.then(() => onProgress(response.message));
          return;
        }
        done(response.ok ? response : failureError(response));
      },
      () => done(new AgentError("the agent's answer is too long", "internal-error")),
    );

    socket.on("connect", () => {
      connected = true;
      socket.write(line);
    });
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (!connected) {
        const e = new AgentError(unreachableMessage(socketPath), "unreachable");
        e.cause = error;
        done(e);
      } else {
        done(
          new AgentError(
            `the connection to the agent broke during ${op} (${error.code ?? error.message}); see journalctl -u freehold-agent`,
            "unreachable",
          ),
        );
      }
    });
    socket.on("close", () =>
      done(
        new AgentError(
          `the agent closed the connection before it answered ${op}; see journalctl -u freehold-agent`,
          "unreachable",
        ),
      ),
    );
  });
}

function describeDetail(detail: AgentSuccess["detail"]): string {
  if (!detail) return "";
  const parts = Object.entries(detail).map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? ` (${parts.join(", ")})` : "";
}

/** The plan executor of the appliance: each step is the agent op of the same name. */
export function agentExecutor(options: { socketPath?: string } = {}): Executor {
  return {
    preview: false,
    async run(step: PlanStepInput, ctx: StepContext): Promise<StepOutcome> {
      const result = await agentCall(step.op, step.input, ctx.secrets, {
        ...(options.socketPath ? { socketPath: options.socketPath } : {}),
        onProgress: (message) => ctx.log(message),
      });
      const state = result.changed ? "changed" : "already as wanted, nothing changed";
      await ctx.log(
        `${state}; ${result.verified ? "verified" : "NOT verified"}${describeDetail(result.detail)}`,
      );
      if (step.op === "firewall.apply" && result.verified) return confirmFirewall(ctx, options);
      return { verified: result.verified };
    },
  };
}

/** How long a new firewall waits for the browser to come back through it (the agent's rollback timer is longer). */
export const FIREWALL_CONFIRM_WAIT_MS = 90_000;

/**
 * The new rules stay only if the owner's browser still reaches the web UI through them: the next
 * progress request after the rules were loaded confirms them; without one, the step is not
 * verified and the agent's timer restores the previous rules.
 */
async function confirmFirewall(ctx: StepContext, options: { socketPath?: string }): Promise<StepOutcome> {
  const loadedAt = Date.now();
  await ctx.log("waiting for your browser to reach the web UI through the new rules…");
  if (!(await waitForUiRequest(loadedAt, FIREWALL_CONFIRM_WAIT_MS))) {
    await ctx.log("no request from a browser arrived: the previous firewall rules come back by themselves");
    return { verified: false };
  }
  const confirmed = await agentCall(
    "firewall.confirm",
    {},
    {},
    options.socketPath ? { socketPath: options.socketPath } : {},
  );
  await ctx.log(
    `the web UI answered through the new rules; ${confirmed.verified ? "kept" : "NOT kept"}${describeDetail(confirmed.detail)}`,
  );
  return { verified: confirmed.verified };
}
