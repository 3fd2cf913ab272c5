import net from "node:net";
import type { z } from "zod";
import {
  AGENT_MAX_LINE,
  type AgentFailure,
  type AgentFinal,
  type AgentIssue,
  type AgentProblem,
  AgentRequestIdSchema,
  AgentRequestSchema,
  type AgentResponse,
  AgentSuccessSchema,
  agentOpTimeoutMs,
  type TransferProgress,
} from "../_schemas/agent";
import { OpInputSchemas, type SecretName, SecretNameSchema } from "../_schemas/ops";
import {
  chunkText,
  type TerminalFrame,
  TerminalFrameSchema,
  type TerminalOpened,
  TerminalOpenRequestSchema,
} from "../_schemas/terminal";
import { LineReader } from "../lib/ndjson";
import type { PtyProcess } from "../lib/terminal/pty";
import { type AgentOp, type Host, OpError } from "./host";
import { type PeerLookup, procPeerUid } from "./peer";
import type { OpenTerminal } from "./terminal";

/**
 * freehold-agent's server: NDJSON over a Unix socket (protocol in app/_schemas/agent.ts).
 *
 * Per connection: the peer's uid is established first (app/agent/peer.ts) and a uid not in
 * `allowedUids` gets one `forbidden` line and the connection is closed before anything it sent is
 * read. Then each line is a request: it is parsed and validated at once (request schema, op name,
 * the op's input schema, secrets), and a request that passes waits its turn in one machine-wide
 * queue: operations run one at a time, whoever asks. Read-only ops (status, logs) do not wait:
 * they observe beside the queue, a few at a time. Progress reported by the op is streamed back as
 * progress lines; the final line says changed/verified, or the problem. A bad line is answered and
 * the connection stays usable.
 *
 * Secret values are never echoed: they are not logged, and every message, hint and detail that leaves
 * the agent (to the client or the journal) has each secret of the request replaced by its name.
 *
 * The web terminal is not an op and does not wait in the queue: a connection whose first line is a
 * TerminalOpenRequest (app/_schemas/terminal.ts) gets the owner's login shell (app/agent/terminal.ts)
 * and from then on carries only terminal frames; closing the connection ends the shell.
 */

export type HostFactory = (progress: (message: string, transfer?: TransferProgress) => void) => Host;

export interface AgentServerOptions {
  ops: Readonly<Record<string, AgentOp>>;
  /** Makes the Host an operation acts through; `progress` streams a line to the requester. */
  host: HostFactory;
  /** Effective uids that may use the agent (root and the `freehold` user on the appliance). */
  allowedUids: readonly number[];
  /** One audit line per event, to stdout (journald) by default. */
  log?: (line: string) => void;
  /** How the peer's uid is found; the default reads /proc and `ss` (see peer.ts). */
  peerUid?: PeerLookup;
  /** Per-op time limit in ms (default: agentOpTimeoutMs). */
  timeoutMs?: (op: string) => number;
  /** Requests waiting behind the running one before new ones are answered "busy". */
  maxQueue?: number;
  /** Read-only ops that may run at once beside the queue (default 4). */
  maxReaders?: number;
  /**
   * An op ran past its time limit: it was answered "failed", and the queue stays blocked until the op
   * settles (two ops never run at once). The agent's entry exits here, so that systemd stops the
   * op's processes with the service's cgroup and starts the agent afresh.
   */
  onStuck?: (op: string) => void;
  /** Opens the owner's shell for a terminal request; absent: terminal requests are "unsupported". */
  openTerminal?: OpenTerminal;
}

export interface AgentServer extends net.Server {
  /** Stops accepting, answers queued requests "busy", and resolves once the running op settled. */
  stop(): Promise<void>;
}

const MAX_TEXT = 4000;

/** Per connection: whether it turned into a terminal, and whether it carried a request before. */
interface Connection {
  socket: net.Socket;
  uid: number;
  used: boolean;
  /** Set once the connection asked for a terminal: every later line is a frame for it. */
  terminalLine: ((line: string) => void) | null;
}

interface Job {
  id: string;
  op: AgentOp;
  input: unknown;
  secrets: Partial<Record<SecretName, string>>;
  uid: number;
  send: (response: AgentResponse) => void;
  isOpen: () => boolean;
}

/** Replaces every secret value (4 characters or more) in a text with its name. */
export function scrubber(secrets: Partial<Record<string, string>>): (text: string) => string {
  const pairs = Object.entries(secrets)
    .filter((e): e is [string, string] => typeof e[1] === "string" && e[1].length >= 4)
    .sort((a, b) => b[1].length - a[1].length);
  return (text) => {
    let out = text;
    for (const [name, value] of pairs) out = out.split(value).join(`<${name}>`);
    return out;
  };
}

/** The SecretRefs ({ secret: name }) inside a validated input: those secrets must come with it. */
export function secretRefs(value: unknown, found = new Set<SecretName>()): Set<SecretName> {
  if (Array.isArray(value)) for (const v of value) secretRefs(v, found);
  else if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const name = SecretNameSchema.safeParse(obj.secret);
    if (Object.keys(obj).length === 1 && name.success) found.add(name.data);
    else for (const v of Object.values(obj)) secretRefs(v, found);
  }
  return found;
}

function zodIssues(error: z.ZodError, prefix: string[] = []): AgentIssue[] {
  return error.issues.slice(0, 50).map((i) => ({
    path: [...prefix, ...i.path.map(String)].join("."),
    message: i.message.slice(0, 1000),
  }));
}

export function createAgentServer(options: AgentServerOptions): AgentServer {
  const log = options.log ?? ((line: string) => console.log(line));
  const peerUid = options.peerUid ?? procPeerUid();
  const timeoutMs = options.timeoutMs ?? agentOpTimeoutMs;
  const maxQueue = options.maxQueue ?? 32;
  const allowed = new Set(options.allowedUids);
  const audit = (event: Record<string, unknown>) =>
    log(JSON.stringify({ agent: "freehold-agent", ...event }));

  let tail: Promise<void> = Promise.resolve();
  let waiting = 0;
  let stopping = false;
  const queued = new Set<Job>();

  const finish = (job: Job, started: number, response: AgentFinal) => {
    job.send(response);
    const failure = response.ok ? null : response;
    audit({
      event: "op",
      id: job.id,
      op: job.op.name,
      uid: job.uid,
      outcome: failure ? failure.problem : "ok",
      ...(response.ok ? { changed: response.changed, verified: response.verified } : {}),
      ...(failure ? { message: failure.message } : {}),
      ms: Date.now() - started,
    });
  };

  const execute = async (job: Job): Promise<void> => {
    const started = Date.now();
    const scrub = scrubber(job.secrets);
    const text = (s: string) => scrub(s).slice(0, MAX_TEXT);
    if (!job.isOpen()) {
      audit({ event: "op", id: job.id, op: job.op.name, uid: job.uid, outcome: "abandoned", ms: 0 });
      return;
    }
    const host = options.host((message, transfer) => {
      job.send({
        id: job.id,
        event: "progress",
        message: text(String(message)),
        ...(transfer ? { transfer } : {}),
      });
    });
    const limit = timeoutMs(job.op.name);
    const running = Promise.resolve().then(() => job.op.run(job.input, job.secrets, host));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), limit);
    });
    try {
      const result = await Promise.race([running, timedOut]);
      if (result === "timeout") {
        finish(job, started, {
          id: job.id,
          ok: false,
          problem: "failed",
          message: `${job.op.name} did not finish within ${Math.round(limit / 1000)} s`,
          hint: "freehold-agent restarts to stop it; see `journalctl -u freehold-agent`, then retry the step",
        });
        options.onStuck?.(job.op.name);
        // Hold the queue until the op really settles: never two ops at once.
        await running.catch(() => undefined);
        return;
      }
      const detail = result.detail
        ? Object.fromEntries(
            Object.entries(result.detail).map(([k, v]) => [k, typeof v === "string" ? text(v) : v]),
          )
        : undefined;
      // The report is scrubbed like every other text that leaves the agent.
      const report =
        result.report === undefined ? undefined : JSON.parse(scrub(JSON.stringify(result.report)));
      const parsed = AgentSuccessSchema.safeParse({
        id: job.id,
        ok: true,
        changed: result.changed,
        verified: result.verified,
        ...(detail ? { detail } : {}),
        ...(report === undefined ? {} : { report }),
      });
      if (!parsed.success) {
        finish(job, started, {
          id: job.id,
          ok: false,
          problem: "internal-error",
          message: `${job.op.name} returned a malformed outcome`,
        });
        return;
      }
      finish(job, started, parsed.data);
    } catch (error) {
      // By class, or by name should an op's OpError come from another copy of host.ts.
      if (error instanceof OpError || (error instanceof Error && error.name === "OpError")) {
        const hint = (error as OpError).hint;
        finish(job, started, {
          id: job.id,
          ok: false,
          problem: "failed",
          message: text(error.message),
          ...(typeof hint === "string" && hint ? { hint: text(hint) } : {}),
        });
      } else {
        const message = error instanceof Error ? error.message : String(error);
        finish(job, started, {
          id: job.id,
          ok: false,
          problem: "internal-error",
          message: text(`${job.op.name} failed unexpectedly: ${message}`),
          hint: "this is a bug in freehold-agent; see `journalctl -u freehold-agent`",
        });
      }
    } finally {
      clearTimeout(timer);
    }
  };

  /** Read-only ops running beside the queue (at most maxReaders at once). */
  const readers = new Set<Promise<void>>();
  const maxReaders = options.maxReaders ?? 4;

  const enqueue = (job: Job): boolean => {
    if (job.op.readOnly) {
      if (stopping || readers.size >= maxReaders) return false;
      const run: Promise<void> = execute(job)
        .catch((error: unknown) =>
          audit({ event: "bug", message: error instanceof Error ? error.message : String(error) }),
        )
        .finally(() => readers.delete(run));
      readers.add(run);
      return true;
    }
    if (stopping || waiting >= maxQueue) return false;
    waiting++;
    queued.add(job);
    tail = tail.then(async () => {
      waiting--;
      if (!queued.delete(job)) return; // answered "busy" by stop()
      try {
        await execute(job);
      } catch (error) {
        audit({ event: "bug", message: error instanceof Error ? error.message : String(error) });
      }
    });
    return true;
  };

  const terminals = new Set<PtyProcess>();

  const startTerminal = async (raw: unknown, conn: Connection) => {
    const { socket, uid } = conn;
    const write = (value: unknown) => {
      if (!socket.destroyed && socket.writable) return socket.write(`${JSON.stringify(value)}\n`);
      return true;
    };
    const idGuess = AgentRequestIdSchema.safeParse((raw as { id?: unknown } | null)?.id);
    const id = idGuess.success ? idGuess.data : null;
    const refuse = (problem: AgentProblem, message: string, extra: Partial<AgentFailure> = {}) => {
      write({ id, ok: false, problem, message, ...extra } satisfies AgentFailure);
      audit({ event: "terminal", id, uid, outcome: problem, message });
      socket.end();
    };
    const first = !conn.used;
    conn.used = true;
    // Lines that come before the shell runs are dropped: the web side waits for "opened".
    conn.terminalLine = () => undefined;
    const request = TerminalOpenRequestSchema.safeParse(raw);
    if (!request.success) {
      return refuse("invalid-input", "the terminal request does not match the agent protocol", {
        issues: zodIssues(request.error),
      });
    }
    if (!first) return refuse("invalid-input", "a terminal must be the first request on its connection");
    if (!options.openTerminal) return refuse("unsupported", "this freehold-agent has no terminal");
    if (stopping) return refuse("busy", "freehold-agent is stopping", { hint: "retry in a moment" });
    const started = Date.now();
    let result: Awaited<ReturnType<OpenTerminal>>;
    try {
      result = await options.openTerminal({ cols: request.data.cols, rows: request.data.rows });
    } catch (error) {
      return refuse(
        "internal-error",
        `the terminal failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (!result.ok) return refuse(result.problem, result.message, result.hint ? { hint: result.hint } : {});
    const { pty } = result;
    if (socket.destroyed || stopping) {
      pty.kill();
      return;
    }
    terminals.add(pty);
    let ended = false;
    const finish = (outcome: string) => {
      if (ended) return;
      ended = true;
      terminals.delete(pty);
      audit({ event: "terminal", id, uid, outcome, user: pty.user, pid: pty.pid, ms: Date.now() - started });
    };
    write({
      id: request.data.id,
      ok: true,
      terminal: "opened",
      pid: pty.pid,
      user: pty.user,
    } satisfies TerminalOpened);
    audit({ event: "terminal", id, uid, outcome: "opened", user: pty.user, pid: pty.pid });
    pty.onData((data) => {
      for (const piece of chunkText(data)) {
        if (!write({ type: "data", data: piece } satisfies TerminalFrame)) {
          // The web side reads slowly: stop reading the pty until the socket drained.
          pty.pause();
          socket.once("drain", () => pty.resume());
        }
      }
    });
    pty.onExit((e) => {
      write({ type: "exit", code: e.code, signal: e.signal } satisfies TerminalFrame);
      socket.end();
      finish("exited");
    });
    conn.terminalLine = (line) => {
      let frame: TerminalFrame | null = null;
      try {
        const parsed = TerminalFrameSchema.safeParse(JSON.parse(line));
        if (parsed.success) frame = parsed.data;
      } catch {
        frame = null;
      }
      if (!frame || frame.type === "exit") {
        audit({ event: "terminal", id, uid, outcome: "invalid-input", message: "a frame out of protocol" });
        pty.kill();
        socket.destroy();
        return;
      }
      if (frame.type === "data") pty.write(frame.data);
      else pty.resize({ cols: frame.cols, rows: frame.rows });
    };
    socket.on("close", () => {
      if (ended) return;
      finish("closed");
      pty.kill();
    });
  };

  const handle = (line: string, conn: Connection, send: Job["send"], isOpen: () => boolean) => {
    const uid = conn.uid;
    let opName: string | undefined;
    const fail = (
      id: string | null,
      problem: AgentProblem,
      message: string,
      extra: Partial<AgentFailure> = {},
    ) => {
      send({ id, ok: false, problem, message, ...extra });
      audit({ event: "request", id, ...(opName ? { op: opName } : {}), uid, outcome: problem, message });
    };
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      // Never repeat the line (or JSON.parse's excerpt of it): it may hold secrets.
      return fail(null, "invalid-input", "the request is not valid JSON (one JSON object per line)");
    }
    if (raw !== null && typeof raw === "object" && Object.hasOwn(raw, "terminal")) {
      void startTerminal(raw, conn);
      return;
    }
    conn.used = true;
    const idGuess = AgentRequestIdSchema.safeParse((raw as { id?: unknown } | null)?.id);
    const id = idGuess.success ? idGuess.data : null;
    const request = AgentRequestSchema.safeParse(raw);
    if (!request.success) {
      // Whatever came as secrets stays out of the issues, even malformed.
      const sent = (raw as { secrets?: unknown } | null)?.secrets;
      const scrub = scrubber(sent && typeof sent === "object" ? (sent as Record<string, string>) : {});
      return fail(id, "invalid-input", "the request does not match the agent protocol", {
        issues: zodIssues(request.error).map((i) => ({ ...i, message: scrub(i.message) })),
      });
    }
    const { op: name, input, secrets = {} } = request.data;
    opName = name;
    const op = Object.hasOwn(options.ops, name) ? options.ops[name] : undefined;
    if (!op) {
      const planned = Object.hasOwn(OpInputSchemas, name);
      return fail(
        request.data.id,
        "unsupported",
        planned ? `${name} is not implemented in this freehold-agent` : `there is no operation "${name}"`,
        { hint: "update Freehold so the web app and the agent come from the same release" },
      );
    }
    const parsed = op.input.safeParse(input);
    if (!parsed.success) {
      return fail(request.data.id, "invalid-input", `the input of ${name} is not valid`, {
        issues: zodIssues(parsed.error, ["input"]),
      });
    }
    const required = secretRefs(parsed.data);
    const permitted = new Set<string>([...op.secrets, ...required]);
    const issues: AgentIssue[] = [];
    for (const s of required) {
      if (secrets[s] === undefined) issues.push({ path: `secrets.${s}`, message: "required by the input" });
    }
    for (const s of Object.keys(secrets)) {
      if (!permitted.has(s)) issues.push({ path: `secrets.${s}`, message: `${name} takes no such secret` });
    }
    if (issues.length > 0) {
      return fail(request.data.id, "invalid-input", `the secrets sent with ${name} do not fit it`, {
        issues,
      });
    }
    const job: Job = {
      id: request.data.id,
      op,
      input: parsed.data,
      secrets: Object.fromEntries(Object.entries(secrets).filter(([k]) => permitted.has(k))),
      uid,
      send,
      isOpen,
    };
    if (!enqueue(job)) {
      fail(
        job.id,
        "busy",
        stopping ? "freehold-agent is stopping" : `${maxQueue} requests are already waiting`,
        { hint: "retry in a moment" },
      );
    }
  };

  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: false }, (socket) => {
    let open = true;
    socket.on("error", () => {
      open = false;
    });
    socket.on("close", () => {
      open = false;
    });
    const send = (response: AgentResponse) => {
      if (open && socket.writable) socket.write(`${JSON.stringify(response)}\n`);
    };
    void peerUid(socket)
      .catch(() => null)
      .then((uid) => {
        if (uid === null || !allowed.has(uid)) {
          audit({ event: "refused", uid });
          const refusal: AgentFailure = {
            id: null,
            ok: false,
            problem: "forbidden",
            message:
              uid === null
                ? "freehold-agent could not tell who is connecting, so it refuses"
                : `uid ${uid} may not use freehold-agent`,
          };
          if (open) socket.end(`${JSON.stringify(refusal)}\n`);
          return;
        }
        const conn: Connection = { socket, uid, used: false, terminalLine: null };
        const reader = new LineReader(
          AGENT_MAX_LINE,
          (line) => (conn.terminalLine ? conn.terminalLine(line) : handle(line, conn, send, () => open)),
          () => {
            send({
              id: null,
              ok: false,
              problem: "invalid-input",
              message: `the request line is longer than ${AGENT_MAX_LINE / 1024} KiB`,
            });
            audit({ event: "request", id: null, uid, outcome: "invalid-input", message: "line too long" });
          },
        );
        socket.on("data", (chunk: Buffer) => reader.push(chunk));
        socket.resume();
      });
  }) as AgentServer;

  server.stop = async () => {
    stopping = true;
    server.close();
    for (const pty of terminals) pty.kill();
    for (const job of queued) {
      queued.delete(job);
      job.send({
        id: job.id,
        ok: false,
        problem: "busy",
        message: "freehold-agent is stopping",
        hint: "retry in a moment",
      });
    }
    await Promise.all([tail, ...readers]);
  };
  return server;
}
