import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { buildImage, ImageBuildError, summary } from "../../image/build";
import { bootVm } from "../../image/vm/qemu";
import { rawImage } from "../../image/vm/raw";
import { ensureWebAppBuilt, writeImageStamp } from "../sources";

const TARGETS = ["amd64", "arm64", "rpi"] as const;

function parseForward(value: string, previous: { host: number; guest: number }[] = []) {
  const match = /^(\d{1,5}):(\d{1,5})$/.exec(value);
  if (!match) throw new InvalidArgumentError("expected HOST:GUEST, e.g. 8443:443");
  return [...previous, { host: Number(match[1]), guest: Number(match[2]) }];
}

function collect(value: string, previous: string[] = []) {
  return [...previous, value];
}

export function registerImage(program: Command): void {
  const image = program.command("image").description("Build and boot Freehold's flashable images");

  image
    .command("build")
    .description("Build dist/freehold-<target>.img.xz with .sha256 and .bmap beside it (as root)")
    .addOption(new Option("--target <target>", "which image").choices(TARGETS).makeOptionMandatory())
    .option("--out <dir>", "output folder", "dist")
    .addOption(new Option("--compress <kind>", "compression").choices(["xz", "zstd"]).default("xz"))
    .option("--cache <dir>", "cache folder for bootstrap tarballs and the workspace")
    .option("--snapshot <time>", "pin the Debian mirror to a snapshot, e.g. 20261101T000000Z")
    .option("--keep-raw", "also keep the uncompressed image beside the compressed one")
    .option(
      "--no-web-app-build",
      "use .next/standalone as it is instead of rebuilding it when the sources changed",
    )
    .action(
      async (options: {
        target: (typeof TARGETS)[number];
        out: string;
        compress: "xz" | "zstd";
        cache?: string;
        snapshot?: string;
        keepRaw?: boolean;
        webAppBuild: boolean;
      }) => {
        try {
          if (options.webAppBuild) ensureWebAppBuilt();
          await buildImage({
            target: options.target,
            outDir: options.out,
            compress: options.compress,
            cacheDir: options.cache,
            snapshot: options.snapshot,
            keepRaw: options.keepRaw ?? false,
          });
          writeImageStamp(options.out, options.target);
        } catch (error) {
          if (error instanceof ImageBuildError) {
            console.error(`freehold image build: ${error.message}`);
            if (error.hint) console.error(`hint: ${error.hint}`);
            process.exit(1);
          }
          throw error;
        }
      },
    );

  image
    .command("summary")
    .description("Print a target's resolved configuration: packages, partitions, units, overlays")
    .addOption(new Option("--target <target>", "which image").choices(TARGETS).makeOptionMandatory())
    .action((options: { target: (typeof TARGETS)[number] }) => {
      console.log(summary(options.target));
    });

  image
    .command("boot")
    .description("Boot a built image under QEMU on a throw-away overlay; the serial console is shown here")
    .addOption(
      new Option("--target <target>", "which image").choices(["amd64", "arm64"]).makeOptionMandatory(),
    )
    .addOption(new Option("--firmware <kind>", "firmware").choices(["uefi", "bios"]).default("uefi"))
    .option("--image <file>", "a raw image to boot instead of dist/freehold-<target>.img.*")
    .option("--dist <dir>", "where the built images are", "dist")
    .option(
      "--disk <file-or-size>",
      "attach an extra disk: an image file, or a size such as 4G (repeatable)",
      collect,
    )
    .option("--forward <host:guest>", "forward a loopback TCP port to the guest (repeatable)", parseForward)
    .option("--memory <MiB>", "guest memory", "2048")
    .action(
      async (options: {
        target: "amd64" | "arm64";
        firmware: "uefi" | "bios";
        image?: string;
        dist: string;
        disk?: string[];
        forward?: { host: number; guest: number }[];
        memory: string;
      }) => {
        const imageFile = options.image ?? (await rawImage(options.dist, options.target));
        const workDir = mkdtempSync(path.join(tmpdir(), "freehold-boot-"));
        const vm = await bootVm({
          target: options.target,
          firmware: options.firmware,
          image: imageFile,
          workDir,
          memoryMiB: Number(options.memory),
          disks: (options.disk ?? []).map((d) => (/^\d+[MG]$/.test(d) ? { size: d } : { file: d })),
          forwards: options.forward ?? [
            { host: 8443, guest: 443 },
            { host: 2222, guest: 22 },
          ],
        });
        for (const p of vm.ports) console.error(`forward: 127.0.0.1:${p.host} -> guest:${p.guest}`);
        console.error(`serial console: ${vm.serialLog} (Ctrl-C stops the VM)`);
        let shown = 0;
        const timer = setInterval(() => {
          const text = vm.serialText();
          if (text.length > shown) {
            process.stdout.write(text.slice(shown));
            shown = text.length;
          }
        }, 200);
        const code = await vm.waitForExit(24 * 3600_000).catch(() => null);
        clearInterval(timer);
        console.error(`QEMU exited (${code ?? "killed"})`);
      },
    );
}
