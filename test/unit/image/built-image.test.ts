/**
 * Inspects images that `freehold image build` produced (in $FREEHOLD_IMAGE_DIR or dist/), without
 * booting or mounting: partition table (sfdisk --json), the ext4 root through debugfs, the FAT
 * boot partition through mtools, the BIOS boot code, and the web app. With no image built the
 * suite is skipped, unless FREEHOLD_REQUIRE_IMAGE is set (CI sets it after building).
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHead } from "../../../image/flash";
import { computeLayout, type PlacedPartition, rootPartition } from "../../../image/layout";
import { checkPartitionTable, readPartitionTable } from "../../../image/stages/60-disk";
import { getTarget } from "../../../image/targets/index";
import type { TargetName } from "../../../image/targets/schema";

const ROOT = path.resolve(__dirname, "../../..");
const DIR = process.env.FREEHOLD_IMAGE_DIR
  ? path.resolve(process.env.FREEHOLD_IMAGE_DIR)
  : path.join(ROOT, "dist");
const REQUIRE = Boolean(process.env.FREEHOLD_REQUIRE_IMAGE);
const env = { ...process.env, MTOOLS_SKIP_CHECK: "1" };

function findImage(t: TargetName): string | null {
  for (const ext of ["xz", "zst"]) {
    const f = path.join(DIR, `freehold-${t}.img.${ext}`);
    if (existsSync(f)) return f;
  }
  return null;
}
const present = (["amd64", "arm64", "rpi"] as const).filter((t) => findImage(t));
const required = REQUIRE
  ? process.env.FREEHOLD_REQUIRE_IMAGE === "1"
    ? ["amd64"]
    : (process.env.FREEHOLD_REQUIRE_IMAGE ?? "").split(",")
  : [];

if (REQUIRE || present.length === 0)
  describe("built images", () => {
    if (REQUIRE) {
      it(`are present in ${DIR} (FREEHOLD_REQUIRE_IMAGE=${process.env.FREEHOLD_REQUIRE_IMAGE})`, () => {
        for (const t of required)
          expect(findImage(t as TargetName), `freehold-${t}.img.xz|zst in ${DIR}`).not.toBeNull();
      });
    } else if (present.length === 0) {
      it.skip(`skipped: no freehold-*.img.xz|zst in ${DIR} (build one with \`freehold image build\`; set FREEHOLD_REQUIRE_IMAGE=1 to make this fail)`, () => {});
    }
  });

for (const name of present) {
  describe(`built image: ${name}`, () => {
    const target = getTarget(name);
    const layout = computeLayout(target);
    const image = findImage(name) as string;
    const tmp = mkdtempSync(path.join(os.tmpdir(), `freehold-inspect-${name}-`));
    const raw = path.join(tmp, "disk.img");
    const root = rootPartition(layout);
    const boot = layout.partitions.find((p) => p.role === "esp" || p.role === "firmware") as PlacedPartition;
    const ext = (cmd: string) =>
      execFileSync("debugfs", ["-R", cmd, `${raw}?offset=${root.offsetBytes}`], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
    const ls = (dir: string) =>
      ext(`ls -p ${dir}`)
        .split("\n")
        .map((l) => l.split("/")[5] ?? "")
        .filter((n) => n && n !== "." && n !== "..");
    const fat = (args: string[]) =>
      execFileSync(args[0] as string, [...args.slice(1)], { env, encoding: "utf8" });

    beforeAll(() => {
      // bmaptool writes only the mapped ranges (sparse) and checks them against the bmap's sha256
      execFileSync(
        "bmaptool",
        ["copy", "--bmap", image.replace(/\.img\.(xz|zst)$/, ".bmap"), "--", image, raw],
        { stdio: "ignore" },
      );
    }, 300_000);
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it("matches its .sha256", async () => {
      const want = readFileSync(`${image}.sha256`, "utf8").split(/\s+/)[0];
      const h = createHash("sha256");
      await new Promise<void>((res, rej) =>
        createReadStream(image)
          .on("data", (d) => h.update(d))
          .on("end", () => res())
          .on("error", rej),
      );
      expect(h.digest("hex")).toBe(want);
    });

    it("has the target's partition table", async () => {
      expect(checkPartitionTable(await readPartitionTable(raw), layout)).toEqual([]);
    });

    it("has a root filesystem with kernel, initrd and the kernel symlinks", () => {
      const bootFiles = ls("/boot");
      expect(bootFiles.some((f) => f.startsWith("vmlinuz-"))).toBe(true);
      expect(bootFiles.some((f) => f.startsWith("initrd.img-"))).toBe(true);
      expect(ext("stat /vmlinuz")).toMatch(/Type: symlink/);
      expect(ext("stat /initrd.img")).toMatch(/Type: symlink/);
      expect(ext("cat /etc/fstab")).toContain(`UUID=${root.fsUuid}`);
      expect(ext("cat /etc/hostname").trim()).toBe("freehold");
    });

    it("ships no per-machine secrets or identity", () => {
      expect(ls("/etc/ssh").filter((f) => f.startsWith("ssh_host_"))).toEqual([]);
      expect(ext("cat /etc/machine-id")).toBe("");
      expect(ls("/var/lib/freehold")).toEqual([]);
      expect(ls("/etc/freehold/tls")).toEqual([]);
      expect(ls("/etc/issue.d")).not.toContain("freehold.issue");
      expect(ls("/var/lib/apt/lists").filter((f) => f !== "partial" && f !== "lock")).toEqual([]);
      expect(ext("cat /etc/passwd")).toMatch(
        /^freehold:x:\d+:\d+:[^:]*:\/var\/lib\/freehold:\/usr\/sbin\/nologin$/m,
      );
    });

    it("enables the appliance's units", () => {
      const wants = ls("/etc/systemd/system").filter((d) => d.endsWith(".wants"));
      const enabled = wants.flatMap((d) => ls(`/etc/systemd/system/${d}`));
      for (const u of [
        "freehold-web.service",
        "freehold-console.service",
        "freehold-console.path",
        "freehold-firstboot.target",
        "nftables.service",
        "ssh.service",
        "avahi-daemon.service",
        "systemd-networkd.service",
        "systemd-resolved.service",
        "systemd-timesyncd.service",
        "freehold-volume-tpm2.service",
      ])
        expect(enabled, u).toContain(u);
      expect(ls("/etc/systemd/system/multi-user.target.wants")).toContain("freehold-web.service");
      expect(ls("/etc/systemd/system/sockets.target.wants")).toContain("freehold-agent.socket");
      const first = ls("/etc/systemd/system/freehold-firstboot.target.wants");
      for (const u of [
        "freehold-grow-disk.service",
        "freehold-preseed.service",
        "freehold-ssh-keys.service",
        "freehold-tls.service",
        "freehold-setup-code.service",
      ])
        expect(first, u).toContain(u);
      expect(ext("cat /etc/nftables.conf")).toContain("policy drop;");
    });

    it("carries what TPM2 automatic unlock needs: systemd-cryptenroll and cryptsetup's TPM2 token", () => {
      expect(ls("/usr/bin")).toContain("systemd-cryptenroll");
      const libdir = `/usr/lib/${target.arch === "amd64" ? "x86_64" : "aarch64"}-linux-gnu`;
      expect(ls(`${libdir}/cryptsetup`)).toContain("libcryptsetup-token-systemd-tpm2.so");
      expect(ls(libdir).some((f) => f.startsWith("libtss2-esys.so"))).toBe(true);
    });

    it("carries the web app under /opt/freehold", () => {
      const app = ls("/opt/freehold");
      expect(app).toContain("server.cjs");
      expect(app).toContain("compile-cache.cjs");
      expect(app).toContain("agent.mjs");
      expect(ls("/opt/freehold/.next")).toContain("static");
    });

    if (target.bootloader.kind === "grub") {
      it("boots under UEFI: GRUB at the removable-media path of the ESP", () => {
        const efiPath = target.bootloader.kind === "grub" ? (target.bootloader.efiPath ?? "") : "";
        const out = path.join(tmp, "boot.efi");
        fat(["mcopy", "-n", "-i", `${raw}@@${boot.offsetBytes}`, `::/${efiPath}`, out]);
        expect(readFileSync(out).subarray(0, 2).toString("latin1")).toBe("MZ");
        expect(ext("cat /boot/grub/grub.cfg")).toContain(`--set=root ${root.fsUuid}`);
      });
    }

    if (target.bootloader.kind === "grub" && target.bootloader.platforms.includes("i386-pc")) {
      it("boots under legacy BIOS: GRUB boot.img in the MBR, core.img in the BIOS boot partition", () => {
        const bios = layout.partitions.find((p) => p.role === "bios-boot") as PlacedPartition;
        const mbr = readHead(raw, 512);
        expect(mbr.readUInt16LE(510)).toBe(0xaa55);
        expect(mbr.toString("latin1")).toContain("GRUB");
        expect(Number(mbr.readBigUInt64LE(0x5c))).toBe(bios.startSector);
        expect(mbr[0x1c2]).toBe(0xee); // protective MBR kept
        const core = readHead(raw, 1024, bios.offsetBytes);
        expect(core.subarray(0, 512).some((b) => b !== 0)).toBe(true);
        expect(Number(core.readBigUInt64LE(512 - 12))).toBe(bios.startSector + 1);
      });
    }

    if (target.bootloader.kind === "rpi-firmware") {
      const dtbs = target.bootloader.dtbs;
      it("has the Raspberry Pi firmware, device trees, config.txt and cmdline.txt for this root", () => {
        const dir = fat(["mdir", "-b", "-i", `${raw}@@${boot.offsetBytes}`, "::/"]);
        for (const f of ["bootcode.bin", "start4.elf", "fixup4.dat", "config.txt", "cmdline.txt", ...dtbs])
          expect(dir, f).toContain(f);
        const config = fat(["mtype", "-i", `${raw}@@${boot.offsetBytes}`, "::/config.txt"]);
        expect(config).toContain("arm_64bit=1");
        const kernel = /^kernel=(\S+)/m.exec(config)?.[1] ?? "";
        expect(dir).toContain(kernel);
        const cmdline = fat(["mtype", "-i", `${raw}@@${boot.offsetBytes}`, "::/cmdline.txt"]);
        expect(cmdline).toContain(`root=PARTUUID=${root.partuuid}`);
      });
    }

    it.skipIf(target.arch !== "amd64" || process.arch !== "x64")(
      "its web server starts (on the host, from the image's files)",
      async () => {
        const app = path.join(tmp, "opt-freehold");
        execFileSync("debugfs", ["-R", `rdump /opt/freehold ${tmp}`, `${raw}?offset=${root.offsetBytes}`], {
          stdio: "ignore",
        });
        execFileSync("mv", ["--", path.join(tmp, "freehold"), app]);
        const state = path.join(tmp, "state");
        execFileSync("mkdir", ["-p", state]);
        execFileSync(
          "openssl",
          [
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=freehold.local",
            "-days",
            "1",
            "-keyout",
            `${state}/key.pem`,
            "-out",
            `${state}/cert.pem`,
          ],
          { stdio: "ignore" },
        );
        writeFileSync(`${state}/setup-code`, "ABCD-EFGH-JKMN-PQ23\n");
        const port = await new Promise<number>((res) => {
          const s = net.createServer().listen(0, "127.0.0.1", () => {
            const p = (s.address() as net.AddressInfo).port;
            s.close(() => res(p));
          });
        });
        const child = spawn(
          process.execPath,
          ["--require", path.join(app, "compile-cache.cjs"), path.join(app, "server.cjs")],
          {
            cwd: app,
            env: {
              PATH: process.env.PATH,
              NODE_ENV: "production",
              FREEHOLD_MODE: "appliance",
              PORT: String(port),
              HOSTNAME: "127.0.0.1",
              FREEHOLD_DB: `${state}/freehold.db`,
              FREEHOLD_TLS_CERT: `${state}/cert.pem`,
              FREEHOLD_TLS_KEY: `${state}/key.pem`,
              FREEHOLD_SETUP_CODE_FILE: `${state}/setup-code`,
              FREEHOLD_AGENT_SOCKET: `${state}/agent.sock`,
            },
            stdio: "ignore",
          },
        );
        try {
          let status = 0;
          for (let i = 0; i < 60 && !status; i++) {
            await new Promise((r) => setTimeout(r, 500));
            status = await new Promise<number>((res) => {
              const req = https.get(
                {
                  host: "127.0.0.1",
                  port,
                  path: "/",
                  rejectUnauthorized: false,
                  headers: { host: "freehold.local" },
                },
                (r) => {
                  r.resume();
                  res(r.statusCode ?? 0);
                },
              );
              req.on("error", () => res(0));
            });
          }
          expect(status).toBeGreaterThanOrEqual(200);
          expect(status).toBeLessThan(500);
        } finally {
          child.kill();
        }
      },
      60_000,
    );
  });
}
