import { type OpInput, OpInputSchemas } from "../../_schemas/ops";
import { type Command, runs, writes } from "../command";
import { type Host, OpError } from "../host";
import { ensureFile, type PlanAgentOp } from "./common";
import { readRecord } from "./data-volume";
import { backupHeader, HEADER_BACKUP, headerBackupArgv, oneLine, readLuks } from "./luks";

/**
 * volume.tpm2: optional automatic unlock of the encrypted data volume by this box's TPM 2.0. A
 * random key sealed by the TPM to PCR 7 (the Secure Boot state) goes into a third key slot; at
 * boot freehold-volume-tpm2.service opens the volume with it, and when the TPM refuses (firmware
 * or boot chain changed) the volume stays locked for the owner to unlock from the web UI as before.
 * It protects the data on a disk taken out of the box, not on a box taken whole: the owner is told.
 */

type Input = OpInput<"volume.tpm2">;

export const TPM_DEVICE = "/dev/tpmrm0";
/** Read by /usr/lib/freehold/volume-tpm2-unlock at boot: which device to open with the TPM. */
export const TPM2_UNLOCK_CONF = "/etc/freehold/tpm2-unlock";
const TOKEN = "systemd-tpm2";

const pcrList = (pcrs: number[]) => pcrs.join("+");
export const enrollArgv = (dev: string, pcrs: number[], keySocket: string) => [
  "systemd-cryptenroll",
  // the owner's passphrase, served on a one-shot root-only socket: never in argv or the environment
  `--unlock-key-file=${keySocket}`,
  "--tpm2-device=auto",
  `--tpm2-pcrs=${pcrList(pcrs)}`,
  "--",
  dev,
];
export const wipeTpmArgv = (dev: string, keySocket: string) => [
  "systemd-cryptenroll",
  `--unlock-key-file=${keySocket}`,
  "--wipe-slot=tpm2",
  "--",
  dev,
];
/** Opens nothing: asks the token (the TPM) for the key and checks it against the header. */
export const tokenOpensArgv = (dev: string) => [
  "cryptsetup",
  "open",
  "--test-passphrase",
  "--token-only",
  `--token-type=${TOKEN}`,
  "--",
  dev,
];
export const confContent = (device: string) =>
  `# Written by freehold-agent (volume.tpm2): the data volume the TPM unlocks at boot.\nDEVICE=${device}\n`;

async function tokenOpens(host: Host, dev: string): Promise<boolean> {
  return (await host.run(tokenOpensArgv(dev), { okCodes: [0, 1, 2] })).code === 0;
}

/** The TPM2 tokens on the volume and whether they are sealed to exactly `pcrs`. */
async function tpmTokens(host: Host, dev: string, pcrs: number[]) {
  const info = await readLuks(host, dev);
  if (!info) throw new OpError(`${dev} is not a LUKS2 volume`, "Run the storage step first.");
  const tokens = info.tokens.filter((t) => t.type === TOKEN);
  const wanted = pcrList([...pcrs].sort((a, b) => a - b));
  return { tokens, sealedAsWanted: tokens.length === 1 && pcrList(tokens[0]?.pcrs ?? []) === wanted };
}

export const volumeTpm2: PlanAgentOp<"volume.tpm2"> = {
  name: "volume.tpm2",
  input: OpInputSchemas["volume.tpm2"],
  secrets: ["disk.passphrase"],

  preview(input: Input): Command[] {
    const dev = "/dev/disk/by-uuid/<data volume>";
    return [
      // <socket>: the passphrase, served once on a root-only socket under /run/freehold-agent
      runs(enrollArgv(dev, input.pcrs, "<socket serving disk.passphrase>")),
      runs(tokenOpensArgv(dev)),
      runs(headerBackupArgv(dev)),
      writes(TPM2_UNLOCK_CONF, 0o644, confContent(dev)),
    ];
  },

  async run(input, secrets, host) {
    const record = await readRecord(host);
    if (!record?.encrypted)
      throw new OpError("the data volume is not encrypted", "Automatic unlock needs an encrypted volume.");
    if (!(await host.exists(TPM_DEVICE))) {
      throw new OpError(
        `this box has no TPM 2.0 (${TPM_DEVICE} is missing)`,
        "Turn automatic unlock off in the storage step, or enable the TPM (fTPM/PTT) in the firmware settings.",
      );
    }
    const key = input.passphrase && secrets[input.passphrase.secret];
    if (!key) throw new OpError("the disk passphrase was not passed");
    const passphrase = oneLine(key);
    const dev = record.device;
    const changes: string[] = [];

    let { tokens, sealedAsWanted } = await tpmTokens(host, dev, input.pcrs);
    // Whether the TPM unseals the volume's key; null: not asked, or the slot changed since. Each
    // answer costs an unseal, so a slot left as it was is not asked again to verify it (header
    // backup and boot-unlock file change nothing the TPM reads); a new one is.
    let unseals: boolean | null = tokens.length > 0 && sealedAsWanted ? await tokenOpens(host, dev) : null;
    // A token sealed to other PCRs, or one the TPM no longer opens (cleared TPM, new firmware),
    // is replaced; a good one is kept.
    if (tokens.length > 0 && !unseals) {
      await host.serveSecret(passphrase, (socket) => host.run(wipeTpmArgv(dev, socket)));
      changes.push("old TPM slot removed");
      tokens = [];
      unseals = null;
    }
    if (tokens.length === 0) {
      host.progress("sealing a key to the TPM");
      const r = await host.serveSecret(passphrase, (socket) =>
        host.run(enrollArgv(dev, input.pcrs, socket), { okCodes: [0, 1] }),
      );
      if (r.code !== 0) {
        throw new OpError(
          `systemd-cryptenroll could not enroll the TPM: ${r.stderr.trim().split("\n").at(-1) ?? "no reason given"}`,
          "If the passphrase was changed since setup, unlock with it from the dashboard and retry.",
        );
      }
      changes.push("TPM slot");
      unseals = null;
    }
    if (changes.length > 0 || !(await host.exists(HEADER_BACKUP))) {
      await backupHeader(host, dev);
      changes.push("header backup");
    }
    if (await ensureFile(host, TPM2_UNLOCK_CONF, confContent(dev), 0o644)) changes.push("boot unlock");

    ({ tokens, sealedAsWanted } = await tpmTokens(host, dev, input.pcrs));
    const opens = unseals ?? (await tokenOpens(host, dev));
    const problems = [
      ...(sealedAsWanted
        ? []
        : [`${tokens.length} TPM tokens, not one sealed to PCR ${pcrList(input.pcrs)}`]),
      ...(opens ? [] : ["the TPM does not open the volume"]),
      ...((await host.readFile(TPM2_UNLOCK_CONF)) === confContent(dev) ? [] : ["boot unlock not configured"]),
    ];
    return {
      changed: changes.length > 0,
      verified: problems.length === 0,
      detail: {
        device: dev,
        pcrs: pcrList(input.pcrs),
        ...(changes.length > 0 ? { actions: changes.join(", ") } : {}),
        ...(problems.length > 0 ? { problems: problems.join(", ") } : {}),
      },
    };
  },
};
