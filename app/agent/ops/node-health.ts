import net from "node:net";
import type { CatalogNode, HealthCheck } from "../../_schemas/catalog";
import type { Host } from "../host";
import { unitIs } from "./common";
import { healthChecksOf, unitsOf } from "./node-units";

/**
 * Is a node working: its systemd units active, then each of its checks (a TCP port accepting
 * connections on localhost, an HTTP GET on localhost with the expected status). The probes are the
 * edge: the agent's are real sockets; tests give real ones against servers they start on
 * 127.0.0.1, or stand-ins.
 */

export interface Probes {
  tcp(port: number): Promise<boolean>;
  /** The HTTP status of GET http://127.0.0.1:port/path, or null when nothing answered. */
  http(port: number, path: string): Promise<number | null>;
  sleep(ms: number): Promise<void>;
}

const TIMEOUT_MS = 3000;

export const realProbes: Probes = {
  tcp: (port) =>
    new Promise((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port, timeout: TIMEOUT_MS });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once("connect", () => done(true));
      socket.once("timeout", () => done(false));
      socket.once("error", () => done(false));
    }),
  http: async (port, path) => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: "manual",
      });
      await res.body?.cancel();
      return res.status;
    } catch {
      return null;
    }
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export const describeCheck = (c: HealthCheck) =>
  c.kind === "tcp"
    ? `TCP 127.0.0.1:${c.port}`
    : `GET http://127.0.0.1:${c.port}${c.path} → ${c.expectStatus}`;

/** What is wrong with a running node: empty when healthy. */
export async function nodeProblems(host: Host, probes: Probes, node: CatalogNode): Promise<string[]> {
  const problems: string[] = [];
  for (const unit of unitsOf(node)) {
    if (!(await unitIs(host, "is-active", [unit]))) problems.push(`${unit} is not active`);
  }
  if (problems.length > 0) return problems;
  for (const check of healthChecksOf(node)) {
    if (check.kind === "tcp") {
      if (!(await probes.tcp(check.port))) problems.push(`nothing answers on ${describeCheck(check)}`);
    } else {
      const status = await probes.http(check.port, check.path);
      if (status !== check.expectStatus)
        problems.push(`${describeCheck(check)} answered ${status === null ? "nothing" : status}`);
    }
  }
  return problems;
}

/** Polls until healthy or out of attempts; the last problems otherwise. */
export async function waitHealthy(
  host: Host,
  probes: Probes,
  node: CatalogNode,
  attempts: number,
  intervalMs: number,
): Promise<string[]> {
  let problems = await nodeProblems(host, probes, node);
  for (let i = 1; i < attempts && problems.length > 0; i++) {
    await probes.sleep(intervalMs);
    problems = await nodeProblems(host, probes, node);
  }
  return problems;
}
