/**
 * freehold-web: Next.js behind our own HTTP(S) server. It applies pending database migrations
 * before it listens, serves HTTPS when a certificate is configured (always on the appliance),
 * and is where the terminal's WebSocket upgrade will attach.
 */
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import next from "next";
import { migrate } from "../app/lib/db/migrate";
import { readEnv } from "../app/lib/env";

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
  await app.prepare();
  const handle = app.getRequestHandler();
  const onRequest: http.RequestListener = (req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error("freehold-web: request failed", error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };

  const server =
    env.FREEHOLD_TLS_CERT && env.FREEHOLD_TLS_KEY
      ? https.createServer(
          { cert: readFileSync(env.FREEHOLD_TLS_CERT), key: readFileSync(env.FREEHOLD_TLS_KEY) },
          onRequest,
        )
      : http.createServer(onRequest);

  server.listen(port, hostname, () => {
    const scheme = server instanceof https.Server ? "https" : "http";
    const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
    console.log(`freehold-web: ${env.FREEHOLD_MODE} mode on ${scheme}://${shown}:${port}`);
  });

  const stop = () => {
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
