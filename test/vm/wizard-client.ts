/**
 * The wizard's HTTP API as a new owner's browser uses it, against a guest's forwarded HTTPS port:
 * the self-signed certificate is pinned to the fingerprint the console printed, the session cookie
 * is kept, and every state-changing request carries the box's own Origin.
 */
import https from "node:https";
import type { TLSSocket } from "node:tls";
import WebSocket from "ws";
import { pollUntil } from "../../app/lib/poll";

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

export class WizardClient {
  private cookie = "";

  constructor(
    private readonly port: number,
    /** SHA-256 fingerprint as the console shows it (AA:BB:...). */
    private readonly certSha256: string,
    private readonly host = "freehold.local",
  ) {}

  request(method: string, pathname: string, body?: unknown, timeoutMs = 60_000): Promise<ApiAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: "127.0.0.1",
          port: this.port,
          path: pathname,
          method,
          rejectUnauthorized: false,
          // A fresh connection each time: reusing a kept-alive one races the server closing it.
          agent: false,
          timeout: timeoutMs,
          headers: {
            host: this.host,
            origin: `https://${this.host}`,
            ...(this.cookie ? { cookie: this.cookie } : {}),
            ...(payload
              ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const cert = (res.socket as TLSSocket).getPeerCertificate();
          if (cert.fingerprint256 !== this.certSha256) {
            res.destroy();
            reject(new Error(`certificate ${cert.fingerprint256} is not the one the console showed`));
            return;
          }
          const set = res.headers["set-cookie"]?.find((c) => c.startsWith("__Host-freehold-session="));
          if (set) this.cookie = set.split(";")[0] ?? "";
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => {
            let parsed: Record<string, unknown> = {};
            try {
              parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
            } catch {
              parsed = { text: text.slice(0, 2000) };
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${pathname}: timeout`)));
      req.on("error", reject);
      req.end(payload);
    });
  }

  /**
   * Opens the web terminal as the dashboard does (password → single-use ticket → WebSocket on the
   * same origin), types `command`, and resolves with the output once `until` matches it.
   */
  async terminal(password: string, command: string, until: RegExp, timeoutMs = 120_000): Promise<string> {
    const issued = await this.expect("POST", "/api/terminal/ticket", { password });
    const ticket = String(issued.body.ticket);
    const url = `wss://127.0.0.1:${this.port}/api/terminal/ws?ticket=${encodeURIComponent(ticket)}&cols=120&rows=30`;
    const ws = new WebSocket(url, {
      rejectUnauthorized: false,
      headers: { host: this.host, origin: `https://${this.host}`, cookie: this.cookie },
    });
    let output = "";
    try {
      return await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`the terminal did not show ${until} within ${timeoutMs / 1000} s:\n${output}`)),
          timeoutMs,
        );
        ws.once("upgrade", (res) => {
          const cert = (res.socket as TLSSocket).getPeerCertificate();
          if (cert.fingerprint256 !== this.certSha256)
            reject(new Error("the terminal's certificate is not the box's"));
        });
        ws.once("open", () => ws.send(JSON.stringify({ type: "data", data: `${command}\r` })));
        ws.on("message", (raw) => {
          const message = JSON.parse(String(raw)) as { type: string; data?: string; reason?: string };
          if (message.type === "data") output += message.data ?? "";
          if (message.type === "exit")
            reject(new Error(`the terminal ended (${message.reason}):\n${output}`));
          if (until.test(output)) {
            clearTimeout(timer);
            resolve(output);
          }
        });
        ws.once("unexpected-response", (_req, res) =>
          reject(new Error(`terminal refused: HTTP ${res.statusCode}`)),
        );
        ws.once("error", reject);
      });
    } finally {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "close" }));
      ws.close();
    }
  }

  /** Like request, but a status other than `expected` is an error that shows the answer. */
  async expect(method: string, pathname: string, body: unknown, expected = 200): Promise<ApiAnswer> {
    const answer = await this.request(method, pathname, body);
    if (answer.status !== expected) {
      throw new Error(
        `${method} ${pathname}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 1500)}`,
      );
    }
    return answer;
  }
}

export interface PlanProgress {
  status: string;
  steps: {
    position: number;
    op: string;
    state: string;
    attempts?: number;
    error?: string | null;
    log?: string;
  }[];
}

/** Polls the plan until it is done or failed; each poll also resumes the engine after a restart. */
export async function waitForPlan(
  client: WizardClient,
  until: (p: PlanProgress) => boolean,
  timeoutMs: number,
): Promise<PlanProgress> {
  let last: PlanProgress | null = null;
  return pollUntil(
    async () => {
      try {
        const answer = await client.request("GET", "/api/setup/plan", undefined, 30_000);
        if (answer.status === 200) {
          last = answer.body as unknown as PlanProgress;
          if (until(last)) return last;
        }
      } catch {
        // the server may be restarting
      }
      return undefined;
    },
    {
      timeoutMs,
      intervalMs: 2000,
      timedOut: () =>
        new Error(
          `The plan did not get there within ${timeoutMs / 1000} s; last progress:\n${JSON.stringify(last, null, 1).slice(0, 4000)}`,
        ),
    },
  );
}
