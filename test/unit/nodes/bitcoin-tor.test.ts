import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rpcauthLine, rpcauthMatches } from "../../../app/agent/ops/bitcoin-rpc";
import { INCLUDE, renderOnion, withInclude } from "../../../app/agent/ops/tor-onion";
import { nodeById } from "../../../app/lib/catalog/nodes";
import { type Tool, torTool } from "./debian-tools";

/** rpcauth.py's computation, verbatim (Bitcoin Core's share/rpcauth/rpcauth.py). */
const RPCAUTH_PY = `
import hmac, sys
user, password, salt = sys.argv[1:4]
m = hmac.new(salt.encode('utf-8'), password.encode('utf-8'), 'SHA256')
print(f'rpcauth={user}:{salt}\${m.hexdigest()}')
`;

describe("Bitcoin Core's rpcauth line", () => {
  it("is the salted HMAC-SHA256 rpcauth.py computes (checked with Python's hmac)", (ctx) => {
    const py = spawnSync("python3", ["-c", "print(1)"], { encoding: "utf8" });
    if (py.status !== 0) return ctx.skip("python3 is not installed");
    for (const [user, password, salt] of [
      ["freehold", "9s-8Fh_2kQ", "0123456789abcdef0123456789abcdef"],
      ["alice", "pässwörd with spaces", "ffeeddccbbaa99887766554433221100"],
    ] as const) {
      const want = spawnSync("python3", ["-c", RPCAUTH_PY, user, password, salt], { encoding: "utf8" });
      expect(rpcauthLine(user, password, salt)).toBe(want.stdout.trim());
    }
  });

  it("recognises its own password and no other", () => {
    const line = rpcauthLine("freehold", "secret-one", "00112233445566778899aabbccddeeff");
    expect(rpcauthMatches(line, "freehold", "secret-one")).toBe(true);
    expect(rpcauthMatches(line, "freehold", "secret-two")).toBe(false);
    expect(rpcauthMatches(line, "bob", "secret-one")).toBe(false);
    expect(rpcauthMatches("rpcauth=garbage", "freehold", "secret-one")).toBe(false);
  });
});

let tor: Tool = { skip: "not fetched yet" };
const dir = mkdtempSync(path.join(os.tmpdir(), "freehold-tor-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  tor = await torTool();
  if ("skip" in tor) console.warn(`SKIPPED: tor --verify-config checks: ${tor.skip}`);
}, 300_000);

describe("onion services", () => {
  const btc = nodeById("bitcoin-core");
  if (!btc) throw new Error("no bitcoin-core");

  it("renders one HiddenServiceDir and a port line per onion port, to localhost", () => {
    expect(renderOnion(btc)).toBe(
      "# Written by freehold-agent (node.install bitcoin-core); edits are overwritten.\n" +
        "HiddenServiceDir /var/lib/tor/onion-services/bitcoin-core\n" +
        "HiddenServicePort 8333 127.0.0.1:8333\n",
    );
    expect(withInclude("SocksPort 9050")).toBe(
      `SocksPort 9050\n# Freehold's onion services (node.install)\n${INCLUDE}\n`,
    );
    expect(withInclude(withInclude(""))).toBe(withInclude(""));
  });

  /** tor --verify-config on a torrc that includes a drop-in directory, as on the box. */
  function verify(dropIn: string) {
    if ("skip" in tor) throw new Error(tor.skip);
    const case_ = mkdtempSync(path.join(dir, "case-"));
    mkdirSync(path.join(case_, "torrc.d"));
    mkdirSync(path.join(case_, "data"), { mode: 0o700 });
    writeFileSync(path.join(case_, "torrc.d", "freehold-node.conf"), dropIn);
    const torrc = path.join(case_, "torrc");
    writeFileSync(
      torrc,
      withInclude(`DataDirectory ${case_}/data\nSocksPort 0\n`).replace(
        INCLUDE,
        `%include ${case_}/torrc.d/*.conf`,
      ),
    );
    return spawnSync(tor.path, ["--verify-config", "-f", torrc], {
      env: { ...process.env, ...tor.env },
      encoding: "utf8",
    });
  }

  it("passes tor --verify-config for every node that offers one", (ctx) => {
    if ("skip" in tor) return ctx.skip(tor.skip);
    for (const id of ["bitcoin-core", "lnd", "electrs", "monerod", "nostr-relay"]) {
      const node = nodeById(id);
      if (!node) throw new Error(id);
      const r = verify(renderOnion(node, path.join(dir, "onion")));
      expect(r.stdout, id).toContain("Configuration was valid");
      expect(r.status, id).toBe(0);
    }
  });

  it("is caught by tor --verify-config when broken (the check can fail)", (ctx) => {
    if ("skip" in tor) return ctx.skip(tor.skip);
    const r = verify(`HiddenServiceDir ${dir}/onion/x\nHiddenServicePort 8333 not-an-address:\n`);
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain("Configuration was valid");
  });
});
