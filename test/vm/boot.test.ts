/**
 * Boots the built images under QEMU (TCG) on copy-on-write overlays and checks, from inside
 * (the injected self-test) and from outside (console, HTTPS), what a new owner relies on.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootVm, retryOnKernelPanic, type Vm } from "../../image/vm/qemu";
import { SELFTEST_PORT, type SelftestReport, selftestCredentials } from "../../image/vm/selftest";
import {
  type ConsoleInfo,
  type HttpsAnswer,
  httpsGet,
  waitForConsoleInfo,
  waitForSelftest,
  waitForWizard,
} from "./guest";
import { imageFor } from "./images";

interface Boot {
  name: string;
  target: "amd64" | "arm64";
  firmware: "uefi" | "bios";
  /** Budget for boot + self-test; TCG on a busy 2-core machine, with room to spare. */
  budgetMs: number;
}

const BOOTS: Boot[] = [
  { name: "amd64 under UEFI (OVMF)", target: "amd64", firmware: "uefi", budgetMs: 6 * 60_000 },
  { name: "amd64 under legacy BIOS (SeaBIOS)", target: "amd64", firmware: "bios", budgetMs: 6 * 60_000 },
  ...(process.env.FREEHOLD_VM_TARGETS === "amd64"
    ? []
    : [
        {
          name: "arm64 under UEFI (AAVMF)",
          target: "arm64",
          firmware: "uefi",
          budgetMs: 15 * 60_000,
        } as const,
      ]),
];

interface Booted {
  vm: Vm;
  report: SelftestReport;
  console: ConsoleInfo;
  wizard: HttpsAnswer;
  workDir: string;
}

async function bootAndProbe(boot: Boot): Promise<Booted> {
  const image = await imageFor(boot.target);
  return retryOnKernelPanic(boot.name, () => bootOnceAndProbe(boot, image));
}

async function bootOnceAndProbe(boot: Boot, image: string): Promise<Booted> {
  const workDir = mkdtempSync(path.join(tmpdir(), `freehold-vm-${boot.target}-${boot.firmware}-`));
  const vm = await bootVm({
    target: boot.target,
    firmware: boot.firmware,
    image,
    workDir,
    forwards: [{ host: 0, guest: 443 }],
    smbiosCredentials: selftestCredentials(),
    virtioPorts: [SELFTEST_PORT],
  });
  try {
    const started = Date.now();
    // The wizard first: the self-test waits for the web app's first page before it reports.
    const wizard = await waitForWizard(vm, vm.ports[0]?.host ?? 0, boot.budgetMs);
    const report = await waitForSelftest(vm, Math.max(120_000, boot.budgetMs - (Date.now() - started)));
    // getty may print its prompt before the first-boot units have written the issue text.
    const shown = await waitForConsoleInfo(vm, 120_000);
    return { vm, report, console: shown, wizard, workDir };
  } catch (error) {
    await vm.stop();
    throw error;
  }
}

const identities: { machineId: string; sshHostKey: string; setupCode: string }[] = [];

describe.each(BOOTS)("$name", (boot) => {
  let booted: Booted | undefined;
  const get = (): Booted => {
    if (!booted) throw new Error("the VM did not boot (see beforeAll's error)");
    return booted;
  };

  beforeAll(
    async () => {
      booted = await bootAndProbe(boot);
      identities.push({
        machineId: booted.report.machineId,
        sshHostKey: booted.report.sshHostKey,
        setupCode: booted.console.setupCode,
      });
    },
    boot.budgetMs + 20 * 60_000,
  );

  afterAll(async () => {
    await booted?.vm.stop();
    if (booted) rmSync(booted.workDir, { recursive: true, force: true });
  });

  it("reaches multi-user with no failed units", () => {
    const { report, vm } = get();
    expect(report.failed, vm.tail(30)).toEqual([]);
    expect(report.state).toBe("running");
    expect(report.web).toBe("active");
    expect(report.agentSocket).toBe("660 root freehold");
  });

  it("starts the web app from the code cache and the resolutions the image build recorded", () => {
    const { report } = get();
    // Recorded under the image's own V8 and the unit's flags: a refusal would mean another V8 or
    // other flags, and a start as slow as without the cache. No "(recorded resolutions off: ...)":
    // the image's modules are the ones the build recorded.
    expect(report.codeCache).toMatch(
      /^code cache: [1-9]\d{2,} modules from the cache, 0 refused by V8, \d+ compiled from source; [1-9]\d{2,} requires resolved as recorded, \d+ by Node$/,
    );
  });

  it("serves the wizard's claim page over HTTPS with the certificate the console shows", () => {
    const { wizard, console: shown, report } = get();
    // The web app logged that page (the self-test waited for that line) after it listened.
    expect(report.timeline.web_first_page).toBeGreaterThan(report.timeline.web_listening ?? Infinity);
    expect(wizard.status).toBe(200);
    expect(wizard.body).toContain("Claim this box");
    expect(wizard.body).toMatch(/enters the setup code first/);
    expect(wizard.certSha256).toBe(shown.certSha256);
  });

  it("leads from the console's address into the wizard, showing a visitor no hardware", async () => {
    const { vm } = get();
    const home = await httpsGet(vm.ports[0]?.host ?? 0, "/", 60_000);
    expect(home.status).toBe(307);
    expect(home.location).toBe("/setup");
    expect(home.body).not.toContain("cpu-model");
  });

  it("shows the URL, a setup code and the fingerprint on the serial console", () => {
    const { console: shown } = get();
    expect(shown.url).toMatch(/^https:\/\/(freehold\.local|\d+\.\d+\.\d+\.\d+)\//);
    expect(shown.setupCode).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
  });

  it("has turned the free space into an unformatted data partition", () => {
    const { report } = get();
    const data = report.partitions.find((p) => p.label === "freehold-data");
    expect(data, JSON.stringify(report.partitions)).toBeDefined();
    expect(data?.fstype).toBe("");
    expect(data?.sizeBytes).toBeGreaterThan(4 * 1024 ** 3);
    expect(report.partitions.find((p) => p.label === "freehold-root")?.fstype).toBe("ext4");
  });

  it("has the base firewall loaded, dropping inbound by default", () => {
    expect(get().report.nftInputPolicy).toBe("drop");
  });
});

describe("a second fresh copy of the amd64 image", () => {
  it(
    "gets its own machine id, SSH host keys and setup code",
    async () => {
      const second = await bootAndProbe(BOOTS[0] as Boot);
      try {
        const first = identities[0];
        expect(first).toBeDefined();
        expect(second.report.machineId).not.toBe(first?.machineId);
        expect(second.report.sshHostKey).not.toBe(first?.sshHostKey);
        expect(second.console.setupCode).not.toBe(first?.setupCode);
        expect(second.report.sshHostKey).toMatch(/^SHA256:/);
      } finally {
        await second.vm.stop();
        rmSync(second.workDir, { recursive: true, force: true });
      }
    },
    30 * 60_000,
  );
});
