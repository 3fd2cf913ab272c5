import { type Host, OpError } from "../host";
import { AGENT_STATE_DIR } from "../paths";
import { parseExport } from "./common";

/**
 * LUKS2 for the data volume: the parameters, the argv of each cryptsetup call, and small
 * observe/act helpers that volume.encrypt and volume.unlock share (and that the real-tool tests
 * run against an image file). Keys always travel on stdin, never in argv or a file.
 */

export const LUKS_LABEL = "freehold-data";
export const LUKS_SUBSYSTEM = "freehold";
export const MAPPER = "freehold-data";
export const MAPPER_PATH = `/dev/mapper/${MAPPER}`;
export const HEADER_BACKUP = `${AGENT_STATE_DIR}/luks-header-freehold-data.img`;
/**
 * Argon2id memory ceiling in KiB, so a 2 GB board can open what a big box made (cryptsetup's
 * default goes up to 1 GiB); the benchmark may pick less on a slow board to meet --iter-time.
 */
export const PBKDF_MEMORY_KIB = 262144;

export interface Cipher {
  cipher: string;
  keySize: number;
}

/**
 * AES-XTS where the CPU has AES instructions (x86 `flags`, arm64 `Features`), else Adiantum, which
 * is fast without them (Raspberry Pi 3/4).
 */
export function chooseCipher(cpuinfo: string): Cipher {
  return /^(?:flags|Features)\s*:.*\baes\b/m.test(cpuinfo)
    ? { cipher: "aes-xts-plain64", keySize: 512 }
    : { cipher: "xchacha12,aes-adiantum-plain64", keySize: 256 };
}

/** Tests shorten the unlock-time benchmark; everything else stays as on the appliance. */
export interface KdfTiming {
  iterTimeMs: number;
}
export const DEFAULT_KDF: KdfTiming = { iterTimeMs: 2000 };

const pbkdf = (t: KdfTiming) => [
  "--pbkdf",
  "argon2id",
  "--pbkdf-memory",
  String(PBKDF_MEMORY_KIB),
  "--pbkdf-parallel",
  "2",
  "--iter-time",
  String(t.iterTimeMs),
];

export const luksFormatArgv = (dev: string, c: Cipher, t: KdfTiming = DEFAULT_KDF) => [
  "cryptsetup",
  "luksFormat",
  "--type",
  "luks2",
  "--batch-mode",
  "--cipher",
  c.cipher,
  "--key-size",
  String(c.keySize),
  ...pbkdf(t),
  "--label",
  LUKS_LABEL,
  "--subsystem",
  LUKS_SUBSYSTEM,
  "--key-file",
  "-",
  "--",
  dev,
];
/**
 * Both keys on stdin, one per line (cryptsetup reads a passphrase up to the newline when stdin is
 * not a terminal and no key file is named): no key file path to open, no key length in argv. The
 * new slot gets the same Argon2id memory ceiling, or a big box would make it unopenable on a Pi.
 */
export const luksAddKeyArgv = (dev: string, t: KdfTiming = DEFAULT_KDF) => [
  "cryptsetup",
  "luksAddKey",
  ...pbkdf(t),
  "--",
  dev,
];
export const testKeyArgv = (dev: string) => [
  "cryptsetup",
  "open",
  "--test-passphrase",
  "--key-file",
  "-",
  "--",
  dev,
];
export const openArgv = (dev: string) => [
  "cryptsetup",
  "open",
  "--type",
  "luks2",
  "--key-file",
  "-",
  "--",
  dev,
  MAPPER,
];
export const headerBackupArgv = (dev: string, file = HEADER_BACKUP) => [
  "cryptsetup",
  "luksHeaderBackup",
  "--header-backup-file",
  file,
  "--",
  dev,
];

/** cryptsetup answers 2 for "no key available with this passphrase". */
const WRONG_KEY = 2;

/** Keys are whole lines for luksAddKey; one with a line break would be cut (and then not open). */
export function oneLine(key: string): string {
  if (/[\r\n]/.test(key))
    throw new OpError("a disk key contains a line break", "Choose a passphrase on one line.");
  return key;
}

export async function isLuks(host: Host, dev: string): Promise<boolean> {
  return (await host.run(["cryptsetup", "isLuks", "--", dev], { okCodes: [0, 1] })).code === 0;
}

/** blkid's view of a device (TYPE, LABEL, SUBSYSTEM, UUID, PTTYPE...); empty when it finds nothing. */
export async function blkid(host: Host, dev: string): Promise<Record<string, string>> {
  const r = await host.run(["blkid", "-o", "export", "--", dev], { okCodes: [0, 2] });
  return r.code === 0 ? parseExport(r.stdout) : {};
}

export async function keyOpens(host: Host, dev: string, key: string): Promise<boolean> {
  // Exit 1 with "No usable keyslot is available": a header whose key slot never got written
  // (a power cut inside luksFormat). It opens nothing, like a wrong key.
  const r = await host.run(testKeyArgv(dev), { stdin: key, okCodes: [0, 1, WRONG_KEY] });
  return r.code === 0;
}

export async function formatLuks(host: Host, dev: string, passphrase: string, c: Cipher, t = DEFAULT_KDF) {
  host.progress(`encrypting ${dev} (LUKS2, ${c.cipher})`);
  await host.run(luksFormatArgv(dev, c, t), { stdin: passphrase, timeoutMs: 300_000 });
}

/** Adds the recovery key unless it already opens a slot (a resumed run must not add a third). */
export async function ensureRecoveryKey(
  host: Host,
  dev: string,
  passphrase: string,
  recoveryKey: string,
  t = DEFAULT_KDF,
): Promise<boolean> {
  if (await keyOpens(host, dev, recoveryKey)) return false;
  host.progress("adding the recovery key");
  const r = await host.run(luksAddKeyArgv(dev, t), {
    stdin: `${oneLine(passphrase)}\n${oneLine(recoveryKey)}\n`,
    timeoutMs: 300_000,
    okCodes: [0, WRONG_KEY],
  });
  if (r.code === WRONG_KEY)
    throw new OpError("the passphrase does not open the volume to add the recovery key");
  return true;
}

/** cryptsetup refuses to overwrite a backup, so the old one goes first; it creates the file 0400. */
export async function backupHeader(host: Host, dev: string, file = HEADER_BACKUP): Promise<void> {
  await host.removeFile(file);
  await host.run(headerBackupArgv(dev, file));
}

/** Opens the volume as /dev/mapper/freehold-data; a wrong key is the owner's mistake, said plainly. */
export async function openVolume(host: Host, dev: string, key: string): Promise<void> {
  const r = await host.run(openArgv(dev), { stdin: key, okCodes: [0, WRONG_KEY] });
  if (r.code === WRONG_KEY) {
    throw new OpError(
      "the passphrase does not open freehold-data",
      "Check the passphrase (it is case-sensitive) or type the recovery key from your recovery kit instead.",
    );
  }
}

export interface LuksInfo {
  keyslots: { id: string; kdf: string; memory: number | null }[];
  /** LUKS2 tokens, e.g. systemd-tpm2 with the key slot it opens and the PCRs it is sealed to. */
  tokens: { type: string; keyslots: string[]; pcrs: number[] }[];
  ciphers: string[];
  label: string | null;
  subsystem: string | null;
  uuid: string | null;
}

/** The LUKS2 metadata (luksDump --dump-json-metadata exists for LUKS2 only) and the header label. */
export async function readLuks(host: Host, dev: string): Promise<LuksInfo | null> {
  if (!(await isLuks(host, dev))) return null;
  const dump = await host.run(["cryptsetup", "luksDump", "--dump-json-metadata", "--", dev], {
    okCodes: [0, 1],
  });
  if (dump.code !== 0) return null;
  let meta: {
    keyslots?: Record<string, { type?: string; kdf?: { type?: string; memory?: number } }>;
    tokens?: Record<string, { type?: string; keyslots?: string[]; "tpm2-pcrs"?: number[] }>;
    segments?: Record<string, { encryption?: string }>;
  };
  try {
    meta = JSON.parse(dump.stdout);
  } catch {
    return null;
  }
  const ids = await blkid(host, dev);
  return {
    keyslots: Object.entries(meta.keyslots ?? {}).map(([id, k]) => ({
      id,
      kdf: k.type === "luks2" ? (k.kdf?.type ?? "?") : `${k.type}?`,
      memory: k.kdf?.memory ?? null,
    })),
    tokens: Object.values(meta.tokens ?? {}).map((t) => ({
      type: t.type ?? "?",
      keyslots: t.keyslots ?? [],
      pcrs: t["tpm2-pcrs"] ?? [],
    })),
    ciphers: Object.values(meta.segments ?? {}).map((s) => s.encryption ?? "?"),
    label: ids.LABEL ?? null,
    subsystem: ids.SUBSYSTEM ?? null,
    uuid: ids.UUID ?? null,
  };
}

/**
 * What is wrong with a volume that should be ours (empty: as wanted). Two slots take a typed key
 * (the passphrase and the recovery key), each with argon2id memory a 2 GB board can afford; a slot
 * a token opens (TPM2: a random key sealed by the TPM, PBKDF2 by systemd's design) is apart.
 */
export function luksProblems(info: LuksInfo | null, c: Cipher): string[] {
  if (!info) return ["not a LUKS2 volume"];
  const out: string[] = [];
  if (info.label !== LUKS_LABEL || info.subsystem !== LUKS_SUBSYSTEM) out.push("label/subsystem");
  if (info.ciphers.length !== 1 || info.ciphers[0] !== c.cipher) out.push(`cipher ${info.ciphers.join(",")}`);
  const tokenSlots = new Set(info.tokens.flatMap((t) => t.keyslots));
  const typed = info.keyslots.filter((k) => !tokenSlots.has(k.id));
  if (typed.length !== 2) out.push(`${typed.length} key slots`);
  for (const k of typed) {
    if (k.kdf !== "argon2id") out.push(`kdf ${k.kdf}`);
    else if (k.memory === null || k.memory > PBKDF_MEMORY_KIB) out.push(`kdf memory ${k.memory}`);
  }
  return out;
}
