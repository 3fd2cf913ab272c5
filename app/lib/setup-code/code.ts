import { createHash, randomInt, timingSafeEqual } from "node:crypto";

/**
 * The first-boot setup code: 16 characters from an alphabet without look-alikes (no I, O, 0, 1),
 * shown in groups of four (ABCD-EFGH-JKLM-NPQR): 80 bits, typed from the console by a human.
 * Comparison ignores case, dashes and spaces. Only a hash is stored.
 */
export const SETUP_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
export const SETUP_CODE_LENGTH = 16;

export function generateSetupCode(): string {
  let raw = "";
  for (let i = 0; i < SETUP_CODE_LENGTH; i++)
    raw += SETUP_CODE_ALPHABET[randomInt(SETUP_CODE_ALPHABET.length)];
  return formatSetupCode(raw);
}

/** Upper case without dashes and spaces; null when it cannot be a setup code at all. */
export function normalizeSetupCode(input: string): string | null {
  const raw = input.replace(/[\s-]+/g, "").toUpperCase();
  if (raw.length !== SETUP_CODE_LENGTH) return null;
  for (const ch of raw) if (!SETUP_CODE_ALPHABET.includes(ch)) return null;
  return raw;
}

export function formatSetupCode(normalized: string): string {
  return normalized.match(/.{1,4}/g)?.join("-") ?? normalized;
}

/** SHA-256 over a domain-separated string; the code carries 80 random bits, so no stretching is needed. */
export function hashSetupCode(normalized: string): string {
  return createHash("sha256").update(`freehold-setup-code:v1:${normalized}`).digest("hex");
}

/** Constant-time check of what the user typed against the stored hash. */
export function setupCodeMatches(input: string, storedHash: string): boolean {
  const normalized = normalizeSetupCode(input);
  // Hash something either way so a malformed code costs the same as a wrong one.
  const candidate = Buffer.from(hashSetupCode(normalized ?? "-"), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return normalized !== null && stored.length === candidate.length && timingSafeEqual(candidate, stored);
}
