/**
 * Time to wizard: from QEMU start to the wizard's first HTTP 200 on the forwarded HTTPS port, and
 * in the same run the same image booted to its login prompt with the wizard's units masked.
 * Prints both and their ratio per firmware (target: ratio ≤ 1.3).
 *   npx tsx bench/bench-boot.ts [amd64-uefi] [amd64-bios] [arm64-uefi]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootVm } from "../image/vm/qemu";
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
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(ALL);
const LIMIT_MS = 15 * 60_000;

/** Where the wizard's boot spent its time, from the guest's own clock (s since the kernel started). */
function timelineRow(report: SelftestReport): string {
  const t = report.timeline;
  const at = (key: string) => (t[key] === undefined ? "?" : `${t[key]?.toFixed(1)} s`);
  return (
    `  guest clock: userspace ${at("userspace")}, TLS ready ${at("active_freehold-tls.service")}, ` +
    `web started ${at("exec_freehold-web.service")}, web listening ${at("web_listening")}, ` +
    `multi-user ${at("active_multi-user.target")}\n` +
    report.criticalChain.map((unit) => `    chain: ${unit}`).join("\n")
  );
}

async function timedBoot(
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
    // The self-test only reports after the wizard answered, so it does not delay what is timed.
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

const rows: string[] = [];
for (const name of chosen) {
  const variant = ALL[name];
  if (!variant) throw new Error(`unknown variant ${name}; choose from ${Object.keys(ALL).join(", ")}`);
  const image = await imageFor(variant.target);
  const wizard = await timedBoot(variant, image, false);
  const login = await timedBoot(variant, image, true);
  const [wizardMs, loginMs] = [wizard.ms, login.ms];
  const row = `${name.padEnd(11)} wizard ${(wizardMs / 1000).toFixed(1).padStart(6)} s   login (wizard masked) ${(loginMs / 1000).toFixed(1).padStart(6)} s   ratio ${(wizardMs / loginMs).toFixed(2)}`;
  console.log(row);
  rows.push(row, wizard.timeline ?? "");
}
console.log("\nTime to wizard (QEMU TCG, 2 cores, 2 GiB guest):");
for (const row of rows) console.log(row);
