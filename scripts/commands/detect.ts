import type { Command } from "commander";
import { formatBytes } from "../../app/lib/format";
import { detectHardware } from "../../app/lib/hardware/detect";

export function registerDetect(program: Command): void {
  program
    .command("detect")
    .description("Print this machine's hardware profile")
    .option("--json", "print the profile as JSON (the schema in app/_schemas/hardware.ts)")
    .action(async (options: { json?: boolean }) => {
      const profile = await detectHardware();
      if (options.json) {
        console.log(JSON.stringify(profile, null, 2));
        return;
      }
      const { cpu, memory, disks } = profile;
      const { board } = profile;
      console.log(`Architecture  ${profile.arch}`);
      if (board) {
        const rev = board.revision ? ` rev ${board.revision}` : "";
        console.log(`Board         ${[board.vendor, board.model].filter(Boolean).join(" ")}${rev}`);
      }
      console.log(`CPU           ${cpu.model ?? "unknown"}: ${cpu.cores} cores, ${cpu.threads} threads`);
      console.log(`CPU features  ${cpu.flags.join(" ") || "none detected"}`);
      console.log(`Memory        ${formatBytes(memory.totalBytes)}`);
      for (const gpu of profile.gpus) {
        const vram =
          gpu.vramBytes === null ? "no VRAM of its own (or unknown)" : `${formatBytes(gpu.vramBytes)} VRAM`;
        console.log(`GPU           ${gpu.vendor} ${gpu.model ?? gpu.pciId ?? ""} ${vram} [${gpu.source}]`);
      }
      for (const disk of disks) {
        const tags = [disk.kind, disk.removable ? "removable" : "", disk.system ? "system" : ""].filter(
          Boolean,
        );
        console.log(
          `Disk          ${disk.path} ${formatBytes(disk.sizeBytes)} ${disk.model ?? ""} [${tags.join(", ")}]`,
        );
      }
      console.log(`TPM           ${profile.tpm ? "yes" : "no"}`);
    });
}
