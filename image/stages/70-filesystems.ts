/**
 * Filesystems made in place inside the image file, at their partitions' offsets, without
 * mounting: mkfs.ext4 -d (root, from the rootfs directory; checked with e2fsck) and
 * mkfs.vfat + mtools (boot partition). Fixed UUIDs and SOURCE_DATE_EPOCH timestamps.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { BuildContext } from "../context";
import { die } from "../log";

export async function makeFilesystems(ctx: BuildContext): Promise<void> {
  const raw = ctx.state.rawImage ?? die("no disk image");
  const env = {
    ...process.env,
    E2FSPROGS_FAKE_TIME: String(ctx.sourceDateEpoch),
    SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch),
    MTOOLS_SKIP_CHECK: "1",
  };
  for (const p of ctx.layout.partitions) {
    if (p.fs === "ext4") {
      await ctx.step(`ext4 ${p.name} (${p.sizeMiB} MiB) from the rootfs`, async () => {
        await ctx.run(
          [
            "mkfs.ext4",
            "-q",
            "-F",
            "-t",
            "ext4",
            "-b",
            "4096",
            "-m",
            "2",
            "-L",
            p.fsLabel ?? p.name,
            "-U",
            p.fsUuid ?? "",
            "-E",
            `offset=${p.offsetBytes},nodiscard,hash_seed=${p.fsUuid},root_owner=0:0`,
            "-d",
            ctx.rootfs,
            "--",
            raw,
            `${p.sizeMiB}M`,
          ],
          { env },
        );
        await ctx.run(["e2fsck", "-f", "-n", "--", `${raw}?offset=${p.offsetBytes}`], { env });
      });
    } else if (p.fs === "vfat") {
      await ctx.step(`vfat ${p.name} (${p.sizeMiB} MiB)`, async () => {
        await ctx.run(
          [
            "mkfs.vfat",
            "-F",
            "32",
            "-s",
            "1",
            "-S",
            "512",
            "-n",
            p.fsLabel ?? "BOOT",
            "-i",
            p.fsUuid ?? "",
            `--offset=${p.startSector}`,
            "--",
            raw,
            String(p.sizeMiB * 1024),
          ],
          { env },
        );
        const entries = readdirSync(ctx.bootDir).map((e) => path.join(ctx.bootDir, e));
        await ctx.run([
          "find",
          ctx.bootDir,
          "-exec",
          "touch",
          "--no-dereference",
          `--date=@${ctx.sourceDateEpoch}`,
          "--",
          "{}",
          "+",
        ]);
        if (entries.length)
          await ctx.run(
            ["mcopy", "-i", `${raw}@@${p.offsetBytes}`, "-s", "-p", "-m", "-Q", "--", ...entries, "::/"],
            { env },
          );
      });
    }
  }
  ctx.state.rawAllocatedBytes = statSync(raw).blocks * 512;
}
