/**
 * freehold-web: Next.js behind our own HTTP(S) server. It applies pending database migrations
 * and issues the setup code before it listens, serves HTTPS when a certificate is configured
 * (always on the appliance), and takes the web terminal's WebSocket upgrades
 * (app/lib/terminal/gateway.ts; ws with noServer, on this same origin and port).
 *
 * Every request passes the guard here, before Next: the Host allowlist (DNS rebinding), the exact
 * Origin check on anything that is not GET/HEAD and on WebSocket upgrades, a per-request CSP nonce,
 * and internal headers (remote address, TLS) that only this server may set. It lives here rather
 * than in Next's proxy.ts because only this layer sees every request (static files, upgrades,
 * requests a matcher would skip), knows the socket's real address and whether it is TLS, and can
 * refuse before any Next code runs.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import next from "next";
import { migrate } from "../app/lib/db/migrate";
import { readEnv } from "../app/lib/env";
import { checkRequest, contentSecurityPolicy, type HostPolicy } from "../app/lib/http/guard";
import { waitForTlsPair } from "../app/lib/http/tls-pair";
import { sampler } from "../app/lib/metrics/sampler";
import { compileCacheStats, describeCompileCache } from "../app/lib/runtime/compile-cache";
import { restoreTiering, TIERING_RESTORE_DELAY_MS } from "../app/lib/runtime/jit-tiering";
import { waitForSetupCode } from "../app/lib/setup-code/bootstrap";
import { boxHostnames } from "../app/lib/system/hostname";
import { agentPtyHost } from "../app/lib/terminal/agent-pty";
import { createTerminalGateway, upgradeListener } from "../app/lib/terminal/gateway";
import { localPtyHost } from "../app/lib/terminal/pty";

/** Headers only this server sets; a client's copies are dropped. */
const INTERNAL_HEADERS = [
  "x-freehold-remote-addr",
  "x-freehold-tls",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-for",
  "x-forwarded-port",
  "forwarded",
];
const MAX_BODY = 256 * 1024;

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function main(): Promise<void> {
  const env = readEnv();
  const dev = process.env.NODE_ENV !== "production";
  const dir = process.cwd();

  const { applied } = migrate(env.databaseFile, env.migrationsDir);
  if (applied.length > 0) console.log(`freehold-web: applied migrations ${applied.join(", ")}`);

  if (env.FREEHOLD_MODE === "appliance" && !(env.FREEHOLD_TLS_CERT && env.FREEHOLD_TLS_KEY)) {
    throw new Error(
      "The appliance serves HTTPS only: set FREEHOLD_TLS_CERT and FREEHOLD_TLS_KEY " +
        "(freehold-firstboot-tls.service writes them to /etc/freehold/tls/).",
    );
  }

  // A standalone build carries its resolved config here instead of next.config.ts.
  const serverFiles = path.join(dir, ".next", "required-server-files.json");
  let conf: Record<string, unknown> | undefined;
  if (!dev && existsSync(serverFiles)) {
    conf = JSON.parse(readFileSync(serverFiles, "utf8")).config;
    process.env.__NEXT_PRIVATE_STANDALONE_CONFIG = JSON.stringify(conf);
  }

  const port = env.PORT ?? (dev ? 3000 : 443);
  const hostname = env.HOSTNAME ?? (env.FREEHOLD_MODE === "appliance" ? "::" : "127.0.0.1");
  const app = next({ dev, dir, hostname, port, ...(conf ? { conf } : {}) });
  // On the appliance, freehold-setup-code may still be writing the code: wait for it while Next
  // prepares (the unit starts beside ours, not before it).
  const [, setup] = await Promise.all([
    app.prepare(),
    waitForSetupCode({
      databaseFile: env.databaseFile,
      mode: env.FREEHOLD_MODE,
      setupCodeFile: env.FREEHOLD_SETUP_CODE_FILE,
    }),
  ]);
  if (setup.state === "issued" && setup.code) {
    console.log(`freehold-web: setup code ${setup.code} (also in ${setup.file}); enter it at /setup`);
  } else if (setup.state === "missing") {
    console.error(`freehold-web: no setup code in ${setup.file}; the box cannot be claimed until it exists`);
  } else if (setup.state !== "claimed") {
    console.log(`freehold-web: the box is not claimed yet; the setup code is in ${setup.file}`);
  }

  const handle = app.getRequestHandler();
  const tls = Boolean(env.FREEHOLD_TLS_CERT && env.FREEHOLD_TLS_KEY);
  const hostPolicy = (): HostPolicy => ({
    hostnames: boxHostnames(),
    configured: env.FREEHOLD_ALLOWED_HOSTS,
  });
  const refuse = (what: string, req: http.IncomingMessage, reason: string) =>
    console.warn(
      `freehold-web: refused ${what} ${req.method} ${req.url?.slice(0, 200)} from ${req.socket.remoteAddress}: ${reason}`,
    );

  // The first page answered, once, with how long after listening: the wait a new owner sees, in the
  // journal for a slow board (and the mark the VM self-test waits for before it does its own work).
  let listeningAt: number | undefined;
  let firstPageLogged = false;
  const noteFirstPage = (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.once("finish", () => {
      if (firstPageLogged || res.statusCode !== 200 || listeningAt === undefined) return;
      firstPageLogged = true;
      const pathname = (req.url ?? "").split("?")[0]?.slice(0, 100);
      const after = ((performance.now() - listeningAt) / 1000).toFixed(1);
      console.log(
        `freehold-web: first page answered (${req.method} ${pathname} 200), ${after} s after listening`,
      );
    });
  };

  const onRequest: http.RequestListener = (req, res) => {
    const verdict = checkRequest(
      {
        method: req.method ?? "GET",
        host: header(req.headers.host),
        origin: header(req.headers.origin),
        fetchSite: header(req.headers["sec-fetch-site"]),
        secure: tls,
      },
      hostPolicy(),
    );
    if (!verdict.ok) {
      refuse("request", req, verdict.reason);
      res.writeHead(verdict.status, {
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "no-store",
      });
      res.end(`${verdict.reason}\n`);
      return;
    }
    const length = Number(header(req.headers["content-length"]) ?? 0);
    if (length > MAX_BODY) {
      res.writeHead(413, { "content-type": "text/plain; charset=utf-8" });
      res.end("Request body too large.\n");
      return;
    }
    for (const name of INTERNAL_HEADERS) delete req.headers[name];
    req.headers["x-freehold-remote-addr"] = req.socket.remoteAddress ?? "unknown";
    req.headers["x-freehold-tls"] = tls ? "1" : "0";
    // Next reads the nonce from the request's CSP header and puts it on every script it renders.
    const nonce = randomBytes(16).toString("base64");
    const csp = contentSecurityPolicy(nonce, dev);
    req.headers["content-security-policy"] = csp;
    res.setHeader("Content-Security-Policy", csp);
    if (!firstPageLogged) noteFirstPage(req, res);
    handle(req, res).catch((error: unknown) => {
      console.error("freehold-web: request failed", error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };

  const server =
    env.FREEHOLD_TLS_CERT && env.FREEHOLD_TLS_KEY
      ? https.createServer(await waitForTlsPair(env.FREEHOLD_TLS_CERT, env.FREEHOLD_TLS_KEY), onRequest)
      : http.createServer(onRequest);

  // The web terminal: on the appliance freehold-agent hosts the owner's shell (this process may not
  // change users); in preview the shell is this process's user's, in a pty of our own.
  const terminal = createTerminalGateway({
    ptyHost: env.FREEHOLD_MODE === "appliance" ? agentPtyHost(env.FREEHOLD_AGENT_SOCKET) : localPtyHost(),
    mode: env.FREEHOLD_MODE,
    tls,
    idleMs: env.FREEHOLD_TERMINAL_IDLE_MS,
    reattachMs: env.FREEHOLD_TERMINAL_REATTACH_MS,
  });

  // WebSocket upgrades (the terminal; Next's dev reloader) need an allowed Host and our Origin.
  // Listeners run in order, so this one refuses before any other sees the socket.
  server.on(
    "upgrade",
    upgradeListener({
      tls,
      hostPolicy,
      terminal,
      onRefused: (req, reason) => refuse("upgrade", req, reason),
    }),
  );

  // The dashboard's resource charts: sampled from boot on (in memory; the route handlers share it).
  sampler();

  server.listen(port, hostname, () => {
    listeningAt = performance.now();
    const scheme = server instanceof https.Server ? "https" : "http";
    const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
    console.log(`freehold-web: ${env.FREEHOLD_MODE} mode on ${scheme}://${shown}:${port}`);
    // Only where the unit preloads it (the image); the dev and e2e servers start without it.
    const codeCache = describeCompileCache(compileCacheStats());
    if (codeCache) console.log(`freehold-web: ${codeCache}`);
    // The unit starts Node with its JIT tiers off for a quicker start (app/lib/runtime/jit-tiering.ts).
    setTimeout(() => {
      const restored = restoreTiering();
      if (restored.length > 0) console.log(`freehold-web: JIT tiers back on (${restored.join(" ")})`);
    }, TIERING_RESTORE_DELAY_MS).unref();
  });

  const stop = () => {
    terminal.close();
    sampler().stop();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error: unknown) => {
  console.error(`freehold-web: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
