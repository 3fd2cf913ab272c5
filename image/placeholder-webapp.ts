/**
 * A stand-in for `npm run build` output, for builder tests and benchmarks until the real web app
 * exists: .next/standalone/server.cjs (HTTPS when FREEHOLD_TLS_* are set, opens the SQLite DB
 * through better-sqlite3 so the native addon path is exercised), static files, public/ and a
 * migration. Copies better-sqlite3 (with its host-built addon) from this repo's node_modules.
 */
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./context";

const SERVER = `// Placeholder Freehold server (image builder tests)
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");
let sqlite = "absent";
try {
  const Database = require("better-sqlite3");
  const db = new Database(process.env.FREEHOLD_DB ?? ":memory:");
  sqlite = db.prepare("select sqlite_version() as v").get().v;
  db.close();
} catch (e) {
  sqlite = "error: " + e.message;
}
const handler = (req, res) => {
  const body = JSON.stringify({ ok: true, placeholder: true, sqlite, mode: process.env.FREEHOLD_MODE ?? null });
  res.writeHead(200, { "content-type": "application/json" });
  res.end(body);
};
const cert = process.env.FREEHOLD_TLS_CERT, key = process.env.FREEHOLD_TLS_KEY;
const server = cert && key && fs.existsSync(cert)
  ? https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, handler)
  : http.createServer(handler);
server.listen(Number(process.env.PORT ?? 3000), process.env.HOSTNAME ?? "::", () => {
  console.log("freehold placeholder listening", server.address(), "sqlite", sqlite);
});
`;

const AGENT = `// Placeholder freehold-agent (image builder tests): answers every request "internal-error".
import net from "node:net";
const server = net.createServer((conn) => {
  let buf = "";
  conn.setEncoding("utf8");
  conn.on("data", (chunk) => {
    buf += chunk;
    for (let nl = buf.indexOf("\\n"); nl >= 0; nl = buf.indexOf("\\n")) {
      let id = null;
      try {
        id = JSON.parse(buf.slice(0, nl)).id ?? null;
      } catch {}
      buf = buf.slice(nl + 1);
      conn.write(JSON.stringify({ id, ok: false, problem: "internal-error", message: "placeholder agent" }) + "\\n");
    }
  });
  conn.on("error", () => {});
});
server.listen(process.env.LISTEN_FDS === "1" ? { fd: 3 } : { path: process.argv[2] ?? "agent.sock" });
`;

export function createPlaceholderWebApp(dir: string, opts: { withSqlite?: boolean } = {}): string {
  rmSync(dir, { recursive: true, force: true });
  const sa = path.join(dir, ".next/standalone");
  mkdirSync(sa, { recursive: true });
  writeFileSync(path.join(sa, "server.cjs"), SERVER);
  // The unit preloads it; the placeholder has no Next.js build, so the image build records no cache.
  writeFileSync(
    path.join(sa, "compile-cache.cjs"),
    "// Placeholder: no V8 code cache for the builder's stand-in app.\n",
  );
  writeFileSync(path.join(sa, "agent.mjs"), AGENT);
  writeFileSync(
    path.join(sa, "package.json"),
    JSON.stringify({ name: "freehold-placeholder", private: true, type: "module" }),
  );
  mkdirSync(path.join(dir, ".next/static/chunks"), { recursive: true });
  writeFileSync(path.join(dir, ".next/static/chunks/placeholder.js"), "console.log('placeholder');\n");
  mkdirSync(path.join(dir, "public"), { recursive: true });
  writeFileSync(path.join(dir, "public/robots.txt"), "User-agent: *\nDisallow: /\n");
  mkdirSync(path.join(dir, "prisma/migrations/0001_init"), { recursive: true });
  writeFileSync(
    path.join(dir, "prisma/migrations/0001_init/migration.sql"),
    "CREATE TABLE placeholder (id INTEGER);\n",
  );
  if (opts.withSqlite !== false) {
    const nm = path.join(REPO_ROOT, "node_modules");
    const bs = path.join(nm, "better-sqlite3");
    if (existsSync(path.join(bs, "build/Release/better_sqlite3.node"))) {
      const dest = path.join(sa, "node_modules/better-sqlite3");
      for (const p of ["package.json", "lib"])
        cpSync(path.join(bs, p), path.join(dest, p), { recursive: true });
      cpSync(
        path.join(bs, "build/Release/better_sqlite3.node"),
        path.join(dest, "build/Release/better_sqlite3.node"),
      );
      for (const dep of ["bindings", "file-uri-to-path"])
        if (existsSync(path.join(nm, dep)))
          cpSync(path.join(nm, dep), path.join(sa, "node_modules", dep), { recursive: true });
      // source for cross builds, where the real app has it: <webAppDir>/node_modules
      mkdirSync(path.join(dir, "node_modules"), { recursive: true });
      cpSync(bs, path.join(dir, "node_modules/better-sqlite3"), {
        recursive: true,
        filter: (s) => !s.includes(`${path.sep}build${path.sep}`) && !s.endsWith(`${path.sep}build`),
      });
    }
  }
  return dir;
}
