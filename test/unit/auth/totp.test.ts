import { describe, expect, it } from "vitest";
import { base32Decode, base32Encode, hotp, otpauthUri, totp, verifyTotp } from "../../../app/lib/auth/totp";

// RFC 6238 appendix B: the seeds are the ASCII strings below, repeated to the hash's length.
const SEED = {
  sha1: Buffer.from("12345678901234567890"),
  sha256: Buffer.from("12345678901234567890123456789012"),
  sha512: Buffer.from("1234567890123456789012345678901234567890123456789012345678901234"),
};
const VECTORS: [number, string, string, string][] = [
  [59, "94287082", "46119246", "90693936"],
  [1111111109, "07081804", "68084774", "25091201"],
  [1111111111, "14050471", "67062674", "99943326"],
  [1234567890, "89005924", "91819424", "93441116"],
  [2000000000, "69279037", "90698825", "38618901"],
  [20000000000, "65353130", "77737706", "47863826"],
];

describe("TOTP (RFC 6238)", () => {
  it.each(VECTORS)("matches the RFC's vectors at T=%i", (time, sha1, sha256, sha512) => {
    expect(totp(SEED.sha1, time, 8, "sha1")).toBe(sha1);
    expect(totp(SEED.sha256, time, 8, "sha256")).toBe(sha256);
    expect(totp(SEED.sha512, time, 8, "sha512")).toBe(sha512);
  });

  it("matches RFC 4226's HOTP vectors", () => {
    const expected = [
      "755224",
      "287082",
      "359152",
      "969429",
      "338314",
      "254676",
      "287922",
      "162583",
      "399871",
      "520489",
    ];
    expect(expected.map((_, i) => hotp(SEED.sha1, i))).toEqual(expected);
  });

  it("round-trips base32 and builds an otpauth URI", () => {
    const secret = base32Encode(SEED.sha1);
    expect(secret).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    expect(base32Decode(secret)).toEqual(SEED.sha1);
    expect(otpauthUri(secret, "alice")).toBe(
      `otpauth://totp/Freehold%3Aalice?secret=${secret}&issuer=Freehold&algorithm=SHA1&digits=6&period=30`,
    );
  });

  it("accepts ±1 step of drift, refuses replays and other codes", () => {
    const secret = base32Encode(SEED.sha1);
    const now = 1111111111;
    const code = totp(SEED.sha1, now);
    const step = verifyTotp(secret, code, now);
    expect(step).toBe(Math.floor(now / 30));
    expect(verifyTotp(secret, code, now + 30)).toBe(step);
    expect(verifyTotp(secret, code, now + 90)).toBeNull();
    expect(verifyTotp(secret, code, now, step)).toBeNull();
    expect(verifyTotp(secret, "12345", now)).toBeNull();
    expect(verifyTotp(secret, "abcdef", now)).toBeNull();
  });
});
