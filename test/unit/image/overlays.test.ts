import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { preseedFiles } from "../../../image/flash";
import { COMMON_UNITS } from "../../../image/targets/common";

const ROOT = path.resolve(__dirname, "../../..");
const COMMON = path.join(ROOT, "overlays/common");
const NFT = path.join(COMMON, "etc/nftables.conf");
const UNITS = path.join(COMMON, "usr/lib/systemd/system");
const tmp = mkdtempSync(path.join(os.tmpdir(), "freehold-overlays-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const nftCheck = (file: string) => spawnSync("nft", ["-c", "-f", file], { encoding: "utf8" });
const canNft = (() => {
  const r = spawnSync("nft", ["-c", "-f", "/dev/null"], { encoding: "utf8" });
  return r.status === 0;
})();

describe("nftables base ruleset", () => {
  it.skipIf(!canNft)("passes nft -c (the kernel's own check)", () => {
    const r = nftCheck(NFT);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it.skipIf(!canNft)("nft -c does fail on a broken ruleset (the check is real)", () => {
    const broken = path.join(tmp, "broken.conf");
    writeFileSync(broken, readFileSync(NFT, "utf8").replace("policy drop;", "policy dorp;"));
    expect(nftCheck(broken).status).not.toBe(0);
  });

  const text = readFileSync(NFT, "utf8");
  const chain = (name: string) =>
    /chain (\w+) \{[\s\S]*?\n\t\}/g.exec(text) &&
    text.slice(text.indexOf(`chain ${name} {`), text.indexOf("\n\t}", text.indexOf(`chain ${name} {`)));

  it("drops input and forward by default, accepts established and loopback", () => {
    expect(chain("input")).toContain("type filter hook input priority filter; policy drop;");
    expect(chain("forward")).toContain("policy drop;");
    expect(chain("input")).toContain("ct state established,related accept");
    expect(chain("input")).toContain('iif "lo" accept');
  });

  it("lets IPv6 neighbour discovery and DHCP replies in", () => {
    const input = chain("input") ?? "";
    expect(input).toMatch(/nd-neighbor-solicit, nd-neighbor-advert.*ip6 hoplimit 255 accept/);
    expect(input).toContain("nd-router-advert");
    expect(input).toContain("udp sport 67 udp dport 68 accept");
    expect(input).toContain("udp sport 547 udp dport 546 accept");
  });

  it("opens 22, 80, 443 and mDNS only to LAN sources", () => {
    const input = chain("input") ?? "";
    const admin = input.split("\n").filter((l) => /dport (\{[^}]*\b(22|80|443)\b|22|80|443|5353)/.test(l));
    expect(admin.length).toBeGreaterThanOrEqual(4);
    for (const line of admin) expect(line).toMatch(/saddr @lan[46]/);
    expect(text).toMatch(/set lan4 \{[\s\S]*10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16/);
    expect(text).toMatch(/set lan6 \{[\s\S]*fe80::\/10, fc00::\/7/);
  });
});

describe("overlay units and scripts", () => {
  const unitFiles = readdirSync(UNITS);

  it("has a unit file for every unit the targets enable (or Debian ships it)", () => {
    for (const u of COMMON_UNITS.filter((u) => u.startsWith("freehold-"))) expect(unitFiles).toContain(u);
  });

  it("runs the pre-seed unit only for the files `freehold flash` pre-seeds, on either boot partition", () => {
    const unit = readFileSync(path.join(UNITS, "freehold-preseed.service"), "utf8");
    const conditions = [...unit.matchAll(/^ConditionPathExists=\|(\S+)$/gm)].map((m) => m[1]);
    const names = Object.keys(
      preseedFiles({
        setupCode: "ABCD-EFGH-JKLM-NPQR",
        hostname: "h",
        wifi: { ssid: "s", psk: "p" },
        sshPublicKey: "k",
      }),
    );
    expect(names).toHaveLength(4);
    expect(conditions.sort()).toEqual(
      ["/boot/efi", "/boot/firmware"].flatMap((d) => names.map((n) => `${d}/${n}`)).sort(),
    );
    // The README on the boot partition is no pre-seed: a glob like freehold-* would match it.
    expect(unit).not.toMatch(/ConditionPathExistsGlob/);
  });

  it("starts the web app beside freehold-tls, not after it", () => {
    const tls = readFileSync(path.join(UNITS, "freehold-tls.service"), "utf8");
    const web = readFileSync(path.join(UNITS, "freehold-web.service"), "utf8");
    expect(tls).not.toMatch(/^Before=.*freehold-web/m);
    expect(web).not.toMatch(/^(After|Requires)=.*freehold-tls/m);
  });

  it("starts the web app early: no default dependencies, ordered after nothing slow", () => {
    const web = readFileSync(path.join(UNITS, "freehold-web.service"), "utf8");
    expect(web).toMatch(/^DefaultDependencies=no$/m);
    // Only what Node needs: a writable root, the journal, its user. Everything else (setup code,
    // TLS pair, the agent's socket) it waits for or connects to itself.
    const after = [...web.matchAll(/^After=(.*)$/gm)].flatMap((m) => (m[1] ?? "").split(/\s+/));
    expect(after.sort()).toEqual(
      ["systemd-journald.socket", "systemd-remount-fs.service", "systemd-sysusers.service"].sort(),
    );
    expect(web).toMatch(/^Conflicts=shutdown\.target$/m);
    expect(web).toMatch(/^Before=shutdown\.target$/m);
    // PrivateTmp=yes would order it after systemd-tmpfiles-setup.service (systemd.exec(5)).
    expect(web).toMatch(/^PrivateTmp=disconnected$/m);
    expect(web).not.toMatch(/^ReadWritePaths=/m);
    // No unit orders itself before the web app (that would pull its dependencies in front of it).
    for (const unit of readdirSync(UNITS)) {
      const text = readFileSync(path.join(UNITS, unit), "utf8");
      expect(text, unit).not.toMatch(/^Before=.*\bfreehold-web\.service/m);
    }
  });

  it("no unit wants tpm2.target: it wants dev-tpmrm0.device, a 90 s wait on a box without a TPM", () => {
    for (const unit of readdirSync(UNITS)) {
      const text = readFileSync(path.join(UNITS, unit), "utf8");
      expect(text, unit).not.toMatch(/^(Wants|Requires|BindsTo)=.*\btpm2\.target\b/m);
    }
    const tpmUnit = readFileSync(path.join(UNITS, "freehold-volume-tpm2.service"), "utf8");
    expect(tpmUnit).toMatch(/^After=tpm2\.target /m);
    expect(tpmUnit).toMatch(/^ConditionPathExists=\/etc\/freehold\/tpm2-unlock$/m);
  });

  it("points every ExecStart at a file the overlays ship, executable", () => {
    for (const f of unitFiles) {
      for (const m of readFileSync(path.join(UNITS, f), "utf8").matchAll(/^ExecStart=(\S+)(?: (\S+))?/gm)) {
        const exe = m[1] === "/usr/bin/node" ? m[2] : m[1];
        if (!exe?.startsWith("/usr/lib/freehold/")) continue;
        const file = path.join(COMMON, exe);
        expect(existsSync(file), `${f}: ${exe}`).toBe(true);
        expect(statSync(file).mode & 0o111, `${exe} executable`).not.toBe(0);
      }
    }
  });

  it("runs the web app as freehold with the environment the server expects", () => {
    const web = readFileSync(path.join(UNITS, "freehold-web.service"), "utf8");
    for (const line of [
      "User=freehold",
      "ExecStart=/usr/bin/node --no-turbofan --no-sparkplug --require /opt/freehold/compile-cache.cjs /opt/freehold/server.cjs",
      "WorkingDirectory=/opt/freehold",
      "Environment=FREEHOLD_MODE=appliance",
      "Environment=PORT=443",
      "Environment=HOSTNAME=::",
      "Environment=FREEHOLD_DB=/var/lib/freehold/freehold.db",
      "Environment=FREEHOLD_TLS_CERT=/etc/freehold/tls/cert.pem",
      "Environment=FREEHOLD_TLS_KEY=/etc/freehold/tls/key.pem",
      "Environment=FREEHOLD_SETUP_CODE_FILE=/var/lib/freehold/setup-code",
      "Environment=NODE_ENV=production",
      "AmbientCapabilities=CAP_NET_BIND_SERVICE",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "StateDirectory=freehold",
      "StateDirectoryMode=0750",
      // Started beside freehold-tls (not after it): the server waits for the key itself.
      "Wants=freehold-agent.socket freehold-setup-code.service freehold-tls.service",
    ])
      expect(web).toContain(line);
    const sock = readFileSync(path.join(UNITS, "freehold-agent.socket"), "utf8");
    expect(sock).toContain("ListenStream=/run/freehold/agent.sock");
    expect(sock).toContain("SocketMode=0660");
    expect(sock).toContain("SocketGroup=freehold");
  });

  it("shell scripts parse (bash -n) and are strict", () => {
    const dir = path.join(COMMON, "usr/lib/freehold");
    const scripts = [
      ...readdirSync(path.join(dir, "firstboot")).map((f) => path.join(dir, "firstboot", f)),
      path.join(dir, "console-issue"),
      path.join(dir, "volume-tpm2-unlock"),
    ].filter((f) => !f.endsWith(".mjs"));
    expect(scripts.length).toBeGreaterThanOrEqual(5);
    for (const s of scripts) {
      execFileSync("bash", ["-n", "--", s]);
      expect(readFileSync(s, "utf8")).toContain("set -euo pipefail");
    }
  });

  it("node scripts parse", () => {
    for (const s of ["usr/lib/freehold/firstboot/preseed.mjs"]) {
      const copy = path.join(tmp, path.basename(s));
      copyFileSync(path.join(COMMON, s), copy);
      execFileSync(process.execPath, ["--check", copy]);
    }
  });

  it("runs the agent bundled with the web app, as root, socket-activated, hardened only as far as its job allows", () => {
    const agent = readFileSync(path.join(UNITS, "freehold-agent.service"), "utf8");
    const directives = agent.split("\n").filter((l) => /^[A-Z]\w*=/.test(l));
    for (const line of [
      "Requires=freehold-agent.socket",
      "After=freehold-agent.socket",
      "ExecStart=/usr/bin/node /opt/freehold/agent.mjs",
      "Restart=on-failure",
      "KillMode=control-group",
      "PrivateTmp=yes",
    ])
      expect(directives).toContain(line);
    // root, with the system writable: it formats disks, writes /etc and /home, loads dm-crypt,
    // applies the firewall and reads other processes' /proc for its peer check
    for (const absent of [
      "User=",
      "DynamicUser=",
      "ProtectSystem=",
      "ProtectHome=",
      "PrivateDevices=",
      "PrivateNetwork=",
      "ProtectKernelModules=",
      "ProtectHostname=",
      "ProtectProc=",
      "RestrictSUIDSGID=",
      "CapabilityBoundingSet=",
      "NoNewPrivileges=yes",
    ])
      expect(
        directives.filter((l) => l.startsWith(absent)),
        absent,
      ).toEqual([]);
    expect(directives).toContainEqual(
      expect.stringMatching(/^RestrictAddressFamilies=.*AF_UNIX.*AF_NETLINK/),
    );
    expect(existsSync(path.join(COMMON, "usr/lib/freehold/agent-placeholder.mjs"))).toBe(false);
  });

  it("the setup-code generator makes 4 groups of 4 from the unambiguous alphabet", () => {
    const script = readFileSync(path.join(COMMON, "usr/lib/freehold/firstboot/setup-code"), "utf8");
    const alphabet = /ALPHABET=(\S+)/.exec(script)?.[1] ?? "";
    expect(alphabet).toHaveLength(32);
    expect(alphabet).not.toMatch(/[01IO]/);
    // run the generating loop itself with the script's alphabet
    const loop = script.slice(script.indexOf('out=""'), script.indexOf("tmp=$("));
    const out = execFileSync("bash", ["-c", `set -euo pipefail; ALPHABET=${alphabet}; ${loop} echo "$out"`], {
      encoding: "utf8",
    }).trim();
    expect(out).toMatch(/^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$/);
  });
});
