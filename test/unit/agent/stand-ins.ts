import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { type AgentResponse, AgentResponseSchema } from "../../../app/_schemas/agent";
import { SecretRefSchema } from "../../../app/_schemas/ops";
import { type AgentOp, type ExecOptions, type Host, OpError } from "../../../app/agent/host";
import { type AgentServer, type AgentServerOptions, createAgentServer } from "../../../app/agent/server";

/**
 * Stand-ins for the daemon tests: two tiny ops acting through a fake Host. The real operations and
 * their own tests live in app/agent/ops; here the agent's server is under test, not the ops.
 */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FakeHostRecord {
  runs: { argv: readonly string[]; options?: ExecOptions }[];
  /** [op label, "start" | "end", time] in the order they happened, across all hosts. */
  timeline: string[];
}

export function fakeHost(progress: (message: string) => void, record: FakeHostRecord): Host {
  const files = new Map<string, string>();
  return {
    async run(argv, options) {
      record.runs.push({ argv, ...(options ? { options } : {}) });
      return { code: 0, stdout: "", stderr: "" };
    },
    async readFile(p) {
      return files.get(p) ?? null;
    },
    async writeFile(p, content) {
      files.set(p, content);
    },
    async removeFile(p) {
      files.delete(p);
    },
    async exists(p) {
      return files.has(p);
    },
    serveSecret: (_secret, use) => use("/run/freehold-agent/secret.sock"),
    progress,
  };
}

const Echo = z.strictObject({
  label: z.string().regex(/^[a-z0-9-]{1,20}$/),
  steps: z.number().int().min(0).max(10),
  delayMs: z.number().int().min(0).max(5000).default(0),
  behave: z.enum(["ok", "op-error", "crash", "hang", "unverified"]).default("ok"),
});

const Unlock = z.strictObject({
  passphrase: SecretRefSchema,
  /** The tool "fails" and its message repeats the passphrase (as a careless tool might). */
  wrong: z.boolean().default(false),
});

export function standInOps(record: FakeHostRecord): Record<string, AgentOp> {
  const echo: AgentOp<typeof Echo> = {
    name: "demo.echo",
    input: Echo,
    secrets: [],
    async run(input, _secrets, host) {
      record.timeline.push(`${input.label}:start`);
      try {
        for (let i = 1; i <= input.steps; i++) {
          host.progress(`${input.label} step ${i}/${input.steps}`);
          if (input.delayMs) await sleep(input.delayMs / Math.max(input.steps, 1));
        }
        if (input.steps === 0 && input.delayMs) await sleep(input.delayMs);
        await host.run(["true", "--", input.label]);
        if (input.behave === "op-error")
          throw new OpError(`${input.label} went wrong`, "try turning it off and on");
        if (input.behave === "crash") throw new TypeError("undefined is not a function");
        if (input.behave === "hang") await new Promise(() => undefined);
        return { changed: true, verified: input.behave !== "unverified", detail: { label: input.label } };
      } finally {
        record.timeline.push(`${input.label}:end`);
      }
    },
  };
  const unlock: AgentOp<typeof Unlock> = {
    name: "demo.unlock",
    input: Unlock,
    secrets: ["disk.passphrase"],
    async run(input, secrets, host) {
      const passphrase = secrets["disk.passphrase"] ?? "";
      await host.run(["cryptsetup", "open", "--key-file=-", "--", "/dev/sdz", "data"], { stdin: passphrase });
      // A careless op or tool output that repeats the secret: the agent must not pass it on.
      host.progress(`trying key ${passphrase}`);
      if (input.wrong) {
        throw new OpError(`No key available with this passphrase (${passphrase}).`, `retype ${passphrase}`);
      }
      return { changed: false, verified: true, detail: { mapper: "data", echo: passphrase } };
    },
  };
  return { [echo.name]: echo, [unlock.name]: unlock };
}

export interface Harness {
  dir: string;
  socketPath: string;
  server: AgentServer;
  /** The registry the server serves (read per request: tests may add ops). */
  ops: Record<string, AgentOp>;
  logs: string[];
  record: FakeHostRecord;
  close(): Promise<void>;
}

/** A real agent server on a Unix socket in a fresh temp dir (0755, socket 0666: nobody may try). */
export async function startHarness(overrides: Partial<AgentServerOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "freehold-agent-"));
  chmodSync(dir, 0o755);
  const socketPath = path.join(dir, "agent.sock");
  const logs: string[] = [];
  const record: FakeHostRecord = { runs: [], timeline: [] };
  const ops = standInOps(record);
  const server = createAgentServer({
    ops,
    host: (progress) => fakeHost(progress, record),
    allowedUids: [0],
    log: (line) => logs.push(line),
    ...overrides,
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  chmodSync(socketPath, 0o666);
  return {
    dir,
    socketPath,
    server,
    ops,
    logs,
    record,
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A test client on one connection: send lines, collect parsed answers. */
export class Client {
  readonly responses: AgentResponse[] = [];
  closed = false;
  private buffer = "";
  private waiters: (() => void)[] = [];
  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      let nl = this.buffer.indexOf("\n");
      while (nl >= 0) {
        this.responses.push(AgentResponseSchema.parse(JSON.parse(this.buffer.slice(0, nl))));
        this.buffer = this.buffer.slice(nl + 1);
        nl = this.buffer.indexOf("\n");
      }
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  static connect(socketPath: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = net.connect(socketPath, () => resolve(new Client(s)));
      s.once("error", reject);
    });
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  send(value: unknown): void {
    this.socket.write(typeof value === "string" ? value : `${JSON.stringify(value)}\n`);
  }

  /** Waits until a final answer (ok true/false) for `id` arrived; returns all lines for that id. */
  async final(id: string | null, timeoutMs = 5000): Promise<AgentResponse[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mine = this.responses.filter((r) => r.id === id);
      if (mine.some((r) => "ok" in r)) return mine;
      if (this.closed) throw new Error(`connection closed before a final answer for ${id}`);
      if (Date.now() > deadline)
        throw new Error(`no final answer for ${id}: ${JSON.stringify(this.responses)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  end(): void {
    this.socket.end();
  }
}
