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
import { maskUnitCredential } from "../image/vm/selftest";
import { waitForWizard } from "../test/vm/guest";
import { imageFor } from "../test/vm/images";

type Variant = { target: "amd64" | "arm64"; firmware: "uefi" | "bios" };
const ALL: Record<string, Variant> = {
  "amd64-uefi": { target: "amd64", firmware: "uefi" },
  "amd64-bios": { target: "amd64", firmware: "bios" },
  "arm64-uefi": { target: "arm64", firmware: "uefi" },
};
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(ALL);
const LIMIT_MS = 15 * 60_000;

async function timedBoot(variant: Variant, image: string, masked: boolean): Promise<number> {
  const workDir = mkdtempSync(path.join(tmpdir(), "freehold-bench-boot-"));
  const vm = await bootVm({
    ...variant,
    image,
    workDir,
    forwards: [{ host: 0, guest: 443 }],
    smbiosCredentials: masked
      ? [maskUnitCredential("freehold-web.service"), maskUnitCredential("freehold-agent.socket")]
      : [],
  });
  try {
    if (masked) await vm.waitForSerial(/login: /, LIMIT_MS);
    else await waitForWizard(vm, vm.ports[0]?.host ?? 0, LIMIT_MS);
    return Date.now() - vm.startedAt;
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
  const wizardMs = await timedBoot(variant, image, false);
  const loginMs = await timedBoot(variant, image, true);
  const row = `${name.padEnd(11)} wizard ${(wizardMs / 1000).toFixed(1).padStart(6)} s   login (wizard masked) ${(loginMs / 1000).toFixed(1).padStart(6)} s   ratio ${(wizardMs / loginMs).toFixed(2)}`;
  console.log(row);
  rows.push(row);
}
console.log("\nTime to wizard (QEMU TCG, 2 cores, 2 GiB guest):");
for (const row of rows) console.log(row);
