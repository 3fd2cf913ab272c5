import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ENTRY, parseBinfmtEntry, registration } from "../../../image/binfmt";
import {
  cachedQemuPath,
  chooseQemuUser,
  fetchQemuUser,
  HOST_QEMU_AARCH64,
  MIN_MAJOR,
  qemuMajor,
  qemuVersion,
} from "../../../image/qemu-user";
import { DEBIAN_MIRROR } from "../../../image/targets/common";

describe("qemu-user choice", () => {
  it("reads the major version from qemu's --version line", () => {
    expect(qemuMajor("qemu-aarch64 version 10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)")).toBe(10);
    expect(qemuMajor("qemu-aarch64 version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u18)")).toBe(7);
    expect(qemuMajor("something else")).toBeNull();
  });

  it("registers its own entry with the F flag and the chosen interpreter", () => {
    const line = registration("/var/cache/freehold-image/qemu-user/trixie/qemu-aarch64");
    expect(line.startsWith(`:${ENTRY}:M:0:\\x7f\\x45\\x4c\\x46\\x02`)).toBe(true);
    expect(line.endsWith(":/var/cache/freehold-image/qemu-user/trixie/qemu-aarch64:F")).toBe(true);
    // EM_AARCH64 (0xb7) in e_machine
    expect(line).toContain("\\x02\\x00\\xb7\\x00");
  });

  it("tells a ready entry from a disabled one, another interpreter, or none", () => {
    const interp = "/cache/qemu-aarch64";
    const text = (state: string, i: string, flags: string) =>
      `${state}\ninterpreter ${i}\nflags: ${flags}\noffset 0\nmagic 7f454c46\nmask ffffffff\n`;
    expect(parseBinfmtEntry(text("enabled", interp, "F"), interp)).toBe("ready");
    expect(parseBinfmtEntry(text("enabled", interp, "OCF"), interp)).toBe("ready");
    expect(parseBinfmtEntry(text("disabled", interp, "F"), interp)).toBe("disabled");
    expect(parseBinfmtEntry(text("enabled", "/usr/bin/qemu-aarch64-static", "F"), interp)).toBe(
      "other-interpreter",
    );
    // Without F the kernel would look for the interpreter inside the chroot.
    expect(parseBinfmtEntry(text("enabled", interp, ""), interp)).toBe("other-interpreter");
    expect(parseBinfmtEntry(null, interp)).toBe("missing");
  });
});

describe("fetching trixie's qemu-user (real apt, Debian archive)", () => {
  const cacheDir = mkdtempSync(path.join(tmpdir(), "freehold-qemu-"));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it("downloads a signed qemu-user, keeps one static qemu-aarch64 of version 9+ and reuses it", async () => {
    const binary = await fetchQemuUser(cacheDir, DEBIAN_MIRROR);
    expect(binary).toBe(cachedQemuPath(cacheDir));
    expect(statSync(binary).mode & 0o111).not.toBe(0);
    expect(qemuMajor((await qemuVersion(binary)) ?? "")).toBeGreaterThanOrEqual(MIN_MAJOR);
    // Nothing but the binary stays behind (the .deb and apt's lists are temporary).
    expect(readdirSync(path.dirname(binary))).toEqual(["qemu-aarch64"]);
    expect(readdirSync(path.join(cacheDir, "qemu-user"))).toEqual(["trixie"]);
    const hostMajor = qemuMajor((await qemuVersion(HOST_QEMU_AARCH64)) ?? "") ?? 0;
    const choice = await chooseQemuUser(cacheDir, "http://127.0.0.1:9/unreachable");
    // The cached copy is used without the network unless the host's own qemu is new enough.
    if (hostMajor >= MIN_MAJOR) expect(choice.source).toBe("host");
    else expect(choice).toMatchObject({ source: "cache", interpreter: binary });
  }, 120_000);

  it("falls back to the host's older qemu, with a warning, when the archive is unreachable", async () => {
    const empty = mkdtempSync(path.join(tmpdir(), "freehold-qemu-empty-"));
    try {
      const hostMajor = qemuMajor((await qemuVersion(HOST_QEMU_AARCH64)) ?? "") ?? 0;
      if (hostMajor >= MIN_MAJOR || !existsSync(HOST_QEMU_AARCH64)) return;
      const choice = await chooseQemuUser(empty, "http://127.0.0.1:9/unreachable");
      expect(choice.source).toBe("host-fallback");
      expect(choice.warning).toMatch(/could not fetch qemu-user/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 120_000);
});
