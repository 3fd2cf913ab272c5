import type { AgentOp, Host } from "./host";
import { OpError } from "./host";
import { secretRefs } from "./server";

/**
 * `freehold-agent call OP`: runs one operation in this process, as root, with the input read as
 * JSON from stdin (nothing on stdin: `{}`). The backup timers' services use it
 * (ExecStart=/usr/bin/node /opt/freehold/agent.mjs call backup.run), so a scheduled run is the very
 * code the dashboard calls over the socket. Progress goes to stdout (the journal), the outcome as
 * one JSON line; the exit code is 0 only for a verified outcome. Ops whose input names secrets are
 * refused: secrets travel over the socket only.
 */

export interface CallDeps {
  ops: Readonly<Record<string, AgentOp>>;
  host: (progress: (message: string) => void) => Host;
  readStdin: () => Promise<string>;
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function callOp(args: readonly string[], deps: CallDeps): Promise<number> {
  const [name, ...rest] = args;
  if (!name || rest.length > 0) {
    deps.err("usage: freehold-agent call OP < input.json");
    return 2;
  }
  const op = Object.hasOwn(deps.ops, name) ? deps.ops[name] : undefined;
  if (!op) {
    deps.err(`freehold-agent: there is no operation "${name}"`);
    return 2;
  }
  const text = (await deps.readStdin()).trim();
  let raw: unknown;
  try {
    raw = text ? JSON.parse(text) : {};
  } catch {
    deps.err("freehold-agent: the input on stdin is not JSON");
    return 2;
  }
  const parsed = op.input.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues.slice(0, 20))
      deps.err(`freehold-agent: input.${i.path.join(".")}: ${i.message}`);
    return 2;
  }
  if (secretRefs(parsed.data).size > 0) {
    deps.err(`freehold-agent: ${name} needs secrets; call it through the agent's socket`);
    return 2;
  }
  try {
    const outcome = await op.run(
      parsed.data,
      {},
      deps.host((m) => deps.out(`${name}: ${m}`)),
    );
    deps.out(JSON.stringify({ op: name, ...outcome }));
    return outcome.verified ? 0 : 1;
  } catch (error) {
    if (error instanceof OpError || (error instanceof Error && error.name === "OpError")) {
      deps.err(`${name} failed: ${error.message}`);
      const hint = (error as OpError).hint;
      if (hint) deps.err(`hint: ${hint}`);
      return 1;
    }
    deps.err(`${name} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`);
    return 70;
  }
}

/** stdin as text; "" when it is not a pipe or file (a terminal, /dev/null under systemd). */
export function readProcessStdin(): Promise<string> {
  if (process.stdin.isTTY) return Promise.resolve("");
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on("data", (c: Buffer) => chunks.push(c));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}
