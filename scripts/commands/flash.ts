import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { flash } from "../../image/flash";
import { ImageBuildError } from "../../image/log";

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

export function registerFlash(program: Command): void {
  program
    .command("flash")
    .description(
      "Write an image to an SD card or USB disk with bmaptool, verify it, and pre-seed settings (as root)",
    )
    .argument("<image>", "dist/freehold-<target>.img.xz (its .bmap beside it)")
    .argument("<device>", "the whole disk, e.g. /dev/sdb")
    .option("--yes", "do not ask before erasing the disk (the disk is still checked)")
    .option("--force", "allow a disk that is not removable (never the one running this system)")
    .option("--setup-code <code>", "pre-seed the setup code instead of a random one (XXXX-XXXX-XXXX-XXXX)")
    .option("--hostname <name>", "pre-seed the host name (the box answers as <name>.local)")
    .option("--ssh-key <line>", "pre-seed an OpenSSH public key for the owner's account")
    .option(
      "--wifi-ssid <ssid>",
      "pre-seed a Wi-Fi network; the passphrase is asked for, never taken from argv",
    )
    .option("--no-verify", "skip reading the written blocks back")
    .action(
      async (
        image: string,
        device: string,
        options: {
          yes?: boolean;
          force?: boolean;
          setupCode?: string;
          hostname?: string;
          sshKey?: string;
          wifiSsid?: string;
          verify: boolean;
        },
      ) => {
        // Secrets come from stdin: a pipe (for scripts) or the terminal.
        const psk = options.wifiSsid ? await ask(`Wi-Fi passphrase for ${options.wifiSsid}: `) : undefined;
        try {
          const result = await flash(
            {
              image,
              device,
              yes: options.yes ?? false,
              force: options.force ?? false,
              verify: options.verify,
              preseed: {
                setupCode: options.setupCode,
                hostname: options.hostname,
                sshPublicKey: options.sshKey,
                wifi: options.wifiSsid && psk !== undefined ? { ssid: options.wifiSsid, psk } : undefined,
              },
            },
            {
              confirm: async (question) => /^(y|yes)$/i.test(await ask(`${question} [y/N] `)),
              log: (line) => console.error(line),
            },
          );
          console.error(
            `flash: wrote ${result.image} to ${result.device.path}${result.verified ? ", verified" : ""}` +
              (result.preseeded.length > 0 ? `; pre-seeded ${result.preseeded.join(", ")}` : ""),
          );
        } catch (error) {
          if (error instanceof ImageBuildError) {
            console.error(`freehold flash: ${error.message}`);
            if (error.hint) console.error(`hint: ${error.hint}`);
            process.exit(1);
          }
          throw error;
        }
      },
    );
}
