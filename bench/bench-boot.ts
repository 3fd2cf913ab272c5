/**
 * Time to wizard: from QEMU start to the wizard's first HTTP 200 on the forwarded HTTPS port, and
 * in the same run the same image booted to its login prompt with the wizard's units masked.
 * Prints both and their ratio per firmware (target: ratio ≤ 1.3).
 *   npx tsx bench/bench-boot.ts [--runs N] [amd64-uefi] [amd64-bios] [arm64-uefi]
 * Under TCG one boot varies by several seconds from run to run (the masked baseline moved between
 * 40 and 49 s on the same image), so with --runs the pairs alternate and the medians are compared.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootVm, retryOnKernelPanic } from "../image/vm/qemu";
import {
  maskUnitCredential,
  SELFTEST_PORT,
  type SelftestReport,
  selftestCredentials,
} from "../image/vm/selftest";
import { waitForSelftest, waitForWizard } from "../test/vm/guest";
import { imageFor } from "../test/vm/images";

type Variant = { target: "amd64" | "arm64"; firmware: "uefi" | "bios" };
const ALL: Record<string, Variant> = {
  "amd64-uefi": { target: "amd64", firmware: "uefi" },
  "amd64-bios": { target: "amd64", firmware: "bios" },
  "arm64-uefi": { target: "arm64", firmware: "uefi" },
};
const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 1;
if (!Number.isInteger(runs) || runs < 1 || runs > 9)
  throw new Error("--runs takes a whole number from 1 to 9");
const chosen = args.length > 0 ? args : Object.keys(ALL);
const LIMIT_MS = 15 * 60_000;

/** Where the wizard's boot spent its time, from the guest's own clock (s since the kernel started). */
function timelineRow(report: SelftestReport): string {
  const t = report.timeline;
  const at = (key: string) => (t[key] === undefined ? "?" : `${t[key]?.toFixed(1)} s`);
  return (
    `  guest clock: userspace ${at("userspace")}, TLS ready ${at("active_freehold-tls.service")}, ` +
    `web started ${at("exec_freehold-web.service")}, web listening ${at("web_listening")}, ` +
    `first page ${at("web_first_page")}, ` +
    `multi-user ${at("active_multi-user.target")}\n` +
    report.criticalChain.map((unit) => `    chain: ${unit}`).join("\n")
  );
}

function timedBoot(
  variant: Variant,
  image: string,
  masked: boolean,
): Promise<{ ms: number; timeline?: string }> {
  const what = `${variant.target} ${variant.firmware}${masked ? " (wizard masked)" : ""}`;
  return retryOnKernelPanic(what, () => timedBootOnce(variant, image, masked));
}

async function timedBootOnce(
  variant: Variant,
  image: string,
  masked: boolean,
): Promise<{ ms: number; timeline?: string }> {
  const workDir = mkdtempSync(path.join(tmpdir(), "freehold-bench-boot-"));
  const vm = await bootVm({
    ...variant,
    image,
    workDir,
    forwards: [{ host: 0, guest: 443 }],
    // The self-test waits for the web app's first page before it does anything (image/vm/selftest.ts),
    // so it takes no CPU from what is timed, as in the masked boot, which runs none.
    smbiosCredentials: masked
      ? [maskUnitCredential("freehold-web.service"), maskUnitCredential("freehold-agent.socket")]
      : selftestCredentials(),
    virtioPorts: masked ? [] : [SELFTEST_PORT],
  });
  try {
    if (masked) {
      await vm.waitForSerial(/login: /, LIMIT_MS);
      return { ms: Date.now() - vm.startedAt };
    }
    await waitForWizard(vm, vm.ports[0]?.host ?? 0, LIMIT_MS);
    const ms = Date.now() - vm.startedAt;
    return { ms, timeline: timelineRow(await waitForSelftest(vm, LIMIT_MS)) };
  } finally {
    await vm.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const rows: string[] = [];
for (const name of chosen) {
  const variant = ALL[name];
  if (!variant) throw new Error(`unknown variant ${name}; choose from ${Object.keys(ALL).join(", ")}`);
  const image = await imageFor(variant.target);
  const wizards: number[] = [];
  const logins: number[] = [];
  let timeline = "";
  for (let run = 1; run <= runs; run++) {
    const wizard = await timedBoot(variant, image, false);
    const login = await timedBoot(variant, image, true);
    wizards.push(wizard.ms);
    logins.push(login.ms);
    timeline = wizard.timeline ?? timeline;
    console.log(`${name} run ${run}/${runs}: wizard ${seconds(wizard.ms)} s, login ${seconds(login.ms)} s`);
  }
  const [wizardMs, loginMs] = [median(wizards), median(logins)];
  const each =
    runs > 1
      ? `   (medians of ${runs}: wizard ${wizards.map(seconds).join("/")}, login ${logins.map(seconds).join("/")})`
      : "";
  const row = `${name.padEnd(11)} wizard ${seconds(wizardMs).padStart(6)} s   login (wizard masked) ${seconds(loginMs).padStart(6)} s   ratio ${(wizardMs / loginMs).toFixed(2)}${each}`;
  console.log(row);
  rows.push(row, timeline);
}
console.log("\nTime to wizard (QEMU TCG, 2 cores, 2 GiB guest):");
for (const row of rows) console.log(row);
