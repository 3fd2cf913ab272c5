import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

/**
 * Passwords: scrypt (memory-hard, in node:crypto, no native addon). Stored as
 * `scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>` so parameters can be raised later.
 */
export interface ScryptParams {
  log2N: number;
  r: number;
  p: number;
}

/** 2^15 × 8 × 128 B = 32 MiB per hash, about 100 ms on a Raspberry Pi 4 class CPU. */
export const DEFAULT_SCRYPT: ScryptParams = { log2N: 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.log2N;
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return ["scrypt", params.log2N, params.r, params.p, salt.toString("base64"), key.toString("base64")].join(
    "$",
  );
}

const STORED = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = STORED.exec(stored);
  if (!m) return false;
  const params = { log2N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (params.log2N < 10 || params.log2N > 20 || params.r < 1 || params.p < 1) return false;
  const expected = Buffer.from(m[5] ?? "", "base64");
  const key = await derive(password, Buffer.from(m[4] ?? "", "base64"), params);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of a random password, for comparing against when the user does not exist (same timing). */
export const DUMMY_HASH_PROMISE = (): Promise<string> => hashPassword(randomBytes(16).toString("hex"));

// NIST SP 800-63B: length over composition rules, and no well-known passwords.
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;
const COMMON = new Set([
  "password1234",
  "passwordpassword",
  "123456789012",
  "qwertyuiopas",
  "iloveyou1234",
  "administrator",
  "letmeinletmein",
  "correcthorsebatterystaple",
  "changemechangeme",
  "freeholdfreehold",
  "raspberrypi1234",
]);

/** What is wrong with a password, in words for the form; empty when it is acceptable. */
export function passwordProblems(password: string, context: { username?: string } = {}): string[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN) problems.push(`Use at least ${PASSWORD_MIN} characters.`);
  if (length > PASSWORD_MAX) problems.push(`Use at most ${PASSWORD_MAX} characters.`);
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) problems.push("This password is too well known.");
  if (new Set(lower).size < 4) problems.push("Use more than three different characters.");
  const user = context.username?.toLowerCase();
  if (user && user.length >= 3 && lower.includes(user)) problems.push("Do not include the user name.");
  if (/^(.{1,4})\1+$/.test(lower)) problems.push("Do not repeat a short pattern.");
  return problems;
}
