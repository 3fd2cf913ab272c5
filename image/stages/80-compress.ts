/** bmap of the raw image (before compression), then the compressed image and its sha256, into staging. */
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { BuildContext } from "../context";
import { die } from "../log";

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(file)
      .on("data", (d) => h.update(d))
      .on("end", () => resolve(h.digest("hex")))
      .on("error", reject);
  });
}

export function imageBaseName(target: string): string {
  return `freehold-${target}.img`;
}

export async function compressImage(ctx: BuildContext): Promise<void> {
  const raw = ctx.state.rawImage ?? die("no raw image");
  rmSync(ctx.stagingDir, { recursive: true, force: true });
  mkdirSync(ctx.stagingDir, { recursive: true });
  const base = imageBaseName(ctx.target.name);
  const ext = ctx.opts.compress === "xz" ? "xz" : "zst";
  const out = path.join(ctx.stagingDir, `${base}.${ext}`);
  await ctx.step("bmap", () =>
    ctx.run([
      "bmaptool",
      "create",
      "--output",
      path.join(ctx.stagingDir, `freehold-${ctx.target.name}.bmap`),
      "--",
      raw,
    ]),
  );
  await ctx.step(
    `${ctx.opts.compress} (${ctx.opts.compress === "xz" ? `-${ctx.opts.xzLevel}` : `-${ctx.opts.zstdLevel}`}, all cores)`,
    () =>
      ctx.opts.compress === "xz"
        ? ctx.run(
            // 32 MiB blocks: long zero runs (the free space of the root fs) cost far less than in -0's default 768 KiB blocks
            [
              "xz",
              "--threads=0",
              `-${ctx.opts.xzLevel}`,
              "--block-size=32MiB",
              "--check=crc64",
              "--stdout",
              "--",
              raw,
            ],
            {
              stdoutFile: out,
              log: null,
            },
          )
        : ctx.run(
            ["zstd", "--threads=0", `-${ctx.opts.zstdLevel}`, "--quiet", "--force", "-o", out, "--", raw],
            { log: null },
          ),
  );
  const sha = await sha256File(out);
  writeFileSync(path.join(ctx.stagingDir, `${base}.${ext}.sha256`), `${sha}  ${base}.${ext}\n`);
  ctx.state.sha256 = sha;
  ctx.state.compressedBytes = statSync(out).size;
  if (ctx.opts.keepRaw) await ctx.run(["cp", "--sparse=always", "--", raw, path.join(ctx.stagingDir, base)]);
}
