import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { effectiveUid, parseSsUnix, procPeerUid } from "../../../app/agent/peer";

const dir = mkdtempSync(path.join(os.tmpdir(), "freehold-peer-"));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const isRoot = process.getuid?.() === 0;

/** A stand-in for ss that prints the real table, rewritten by `transform` (a JS function body on `line`). */
function fakeSs(name: string, transform: string): string {
  const file = path.join(dir, `${name}.cjs`); // .cjs: whatever package.json sits above the temp dir
  writeFileSync(
    file,
    `#!${process.execPath}
const { execFileSync } = require("node:child_process");
const out = execFileSync("ss", ["-xpnH"], { encoding: "utf8" });
const map = (line) => { ${transform} };
process.stdout.write(out.split("\\n").flatMap((l) => (l ? [map(l)].flat() : [])).join("\\n") + "\\n");
`,
  );
  chmodSync(file, 0o755);
  return file;
}

/** Accepts one connection (from a client as root, or as nobody through setpriv) and looks its peer up. */
async function lookup(options: { ss?: string; asNobody?: boolean } = {}): Promise<number | null> {
  const socketPath = path.join(dir, `s${Math.random().toString(36).slice(2)}.sock`);
  const find = procPeerUid(options.ss ? { ss: options.ss } : {});
  let result!: Promise<number | null>;
  const accepted = new Promise<void>((resolve) => {
    const server = net.createServer((socket) => {
      result = find(socket).finally(() => {
        socket.end("done\n");
        server.close();
      });
      resolve();
    });
    server.listen(socketPath, () => chmodSync(socketPath, 0o666));
  });
  await new Promise((r) => setTimeout(r, 20));
  const code = `const c = require("node:net").connect(process.argv[1]); c.on("data", () => c.end()); c.on("close", () => process.exit(0));`;
  const argv = options.asNobody
    ? [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
        process.execPath,
        "-e",
        code,
        socketPath,
      ]
    : [process.execPath, "-e", code, socketPath];
  const child = spawn(argv[0] as string, argv.slice(1), { stdio: "ignore" });
  const exited = new Promise((r) => child.on("exit", r));
  await accepted;
  const uid = await result;
  await exited;
  return uid;
}

describe("parseSsUnix", () => {
  it("reads local and peer inodes from the end and every pid/fd holder", () => {
    const out = [
      'u_str ESTAB 0      0           /run/freehold/agent.sock 406457 * 406456 users:(("node",pid=5812,fd=21))',
      'u_str ESTAB 0      0                          * 406456 * 406457 users:(("node",pid=77,fd=20),("node",pid=78,fd=20))',
      "u_str LISTEN 0 4096 /run/systemd/private 1234 * 0",
      "garbage",
    ].join("\n");
    expect(parseSsUnix(out)).toEqual([
      { inode: "406457", peer: "406456", holders: [{ pid: 5812, fd: 21 }] },
      {
        inode: "406456",
        peer: "406457",
        holders: [
          { pid: 77, fd: 20 },
          { pid: 78, fd: 20 },
        ],
      },
      { inode: "1234", peer: "0", holders: [] },
    ]);
  });

  it("is not fooled by a socket path with spaces and numbers", () => {
    const line = "u_str ESTAB 0 0 /tmp/x 406457 * 99 31 * 32";
    expect(parseSsUnix(line)).toEqual([{ inode: "31", peer: "32", holders: [] }]);
  });
});

describe("procPeerUid (real sockets, real ss and /proc)", () => {
  it("finds root on the other end of a root client", async () => {
    expect(await lookup()).toBe(process.getuid?.());
  });

  it("reads the effective uid from /proc/PID/status", async () => {
    expect(await effectiveUid(process.pid)).toBe(process.geteuid?.());
    expect(await effectiveUid(2 ** 30)).toBeNull();
  });

  it.skipIf(!isRoot)("finds nobody on the other end of a client run as nobody", async () => {
    expect(await lookup({ asNobody: true })).toBe(65534);
  });

  it.skipIf(!isRoot)(
    "the stand-in ss that the next tests rewrite works when it rewrites nothing",
    async () => {
      expect(await lookup({ ss: fakeSs("ss-identity", "return line;"), asNobody: true })).toBe(65534);
    },
  );

  it.skipIf(!isRoot)("a holder that ss names but /proc does not confirm proves nothing", async () => {
    // every process list replaced by pid 1 (root): /proc/1/fd/0 is not the peer socket
    const ss = fakeSs(
      "ss-forged-holder",
      `return line.replace(/ users:\\(\\(.*$/, ' users:(("systemd",pid=1,fd=0))');`,
    );
    expect(await lookup({ ss, asNobody: true })).toBeNull();
  });

  it.skipIf(!isRoot)("a process name imitating ss's syntax does not make nobody root", async () => {
    // as if the client had named itself '",pid=1,fd=3),("x'
    const ss = fakeSs(
      "ss-name-injection",
      `return line.replace(/users:\\(\\("([^"]*)"/g, 'users:(("",pid=1,fd=3),("x"');`,
    );
    expect(await lookup({ ss, asNobody: true })).toBe(65534);
  });

  it.skipIf(!isRoot)("an inode claimed by two lines (a crafted socket path) is refused", async () => {
    const ss = fakeSs(
      "ss-duplicate",
      `const m = / (\\d+) \\* (\\d+)( users:.*)?$/.exec(line);
       return m ? [line, "u_str ESTAB 0 0 /tmp/evil " + m[1] + " * 1 users:((\\"x\\",pid=1,fd=0))"] : line;`,
    );
    expect(await lookup({ ss, asNobody: true })).toBeNull();
  });

  it("answers null when ss cannot run", async () => {
    expect(await lookup({ ss: path.join(dir, "no-such-ss") })).toBeNull();
  });
});
