import { randomBytes } from "node:crypto";
import { base32Encode } from "../auth/totp";

/**
 * Secrets the server generates for the recovery kit, from crypto.randomBytes:
 * - the disk recovery key: 160 bits, base32 in groups of four (typed from paper if ever needed);
 * - the backup repository password: 160 bits, base32 likewise.
 */
export function generateRecoveryKey(): string {
  return groups(base32Encode(randomBytes(20)));
}

export function generateRepositoryPassword(): string {
  return groups(base32Encode(randomBytes(20)));
}

function groups(text: string): string {
  return text.match(/.{1,4}/g)?.join("-") ?? text;
}
