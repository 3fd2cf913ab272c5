#!/usr/bin/node
// Placeholder for freehold-agent until the agent is implemented: it accepts connections on the
// socket systemd passes in (fd 3, freehold-agent.socket) and answers every NDJSON request with
// the documented "internal-error" problem, so the web app sees a well-formed refusal.
import net from "node:net";

const MAX_LINE = 64 * 1024;
const server = net.createServer((conn) => {
  let buf = "";
  conn.setEncoding("utf8");
  conn.on("data", (chunk) => {
    buf += chunk;
    if (buf.length > MAX_LINE && !buf.includes("\n")) {
      conn.end(`${JSON.stringify({ ok: false, problem: "invalid-input", message: "request too large" })}\n`);
      return;
    }
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let id = null;
      try {
        id = JSON.parse(line)?.id ?? null;
      } catch {}
      conn.write(
        `${JSON.stringify({ id, ok: false, problem: "internal-error", message: "agent not implemented yet" })}\n`,
      );
      nl = buf.indexOf("\n");
    }
  });
  conn.on("error", () => {});
});
server.listen({ fd: 3 });
