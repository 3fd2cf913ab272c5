import { describe, expect, it } from "vitest";
import { hashPassword, passwordProblems, verifyPassword } from "../../../app/lib/auth/password";

describe("scrypt passwords", () => {
  it("verifies the right password and only that", async () => {
    const stored = await hashPassword("correct horse battery");
    expect(stored).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(await verifyPassword("correct horse battery", stored)).toBe(true);
    expect(await verifyPassword("correct horse batterY", stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
  });

  it("salts every hash and reads the parameters it was made with", async () => {
    const a = await hashPassword("same password here", { log2N: 10, r: 8, p: 1 });
    const b = await hashPassword("same password here", { log2N: 10, r: 8, p: 1 });
    expect(a).not.toBe(b);
    expect(a.startsWith("scrypt$10$8$1$")).toBe(true);
    expect(await verifyPassword("same password here", a)).toBe(true);
  });

  it("refuses malformed or out-of-range stored hashes instead of throwing", async () => {
    expect(await verifyPassword("x", "plain")).toBe(false);
    expect(await verifyPassword("x", "scrypt$30$8$1$AAAA$AAAA")).toBe(false);
    expect(await verifyPassword("x", "scrypt$4$8$1$AAAA$AAAA")).toBe(false);
  });

  it("normalizes Unicode (NFKC) so the same password typed two ways matches", async () => {
    const stored = await hashPassword("caf\u00e9 au lait 1234", { log2N: 10, r: 8, p: 1 });
    expect(await verifyPassword("cafe\u0301 au lait 1234", stored)).toBe(true);
  });
});

describe("password policy", () => {
  it("accepts a long passphrase", () => {
    expect(passwordProblems("maple river lantern 42", { username: "alice" })).toEqual([]);
  });
  it.each([
    ["short1", /at least 12/],
    ["password1234", /too well known/],
    ["aaaaaaaaaaaaaaaa", /more than three different/],
    ["abcabcabcabcabc", /repeat a short pattern/],
    ["alice-in-wonderland", /user name/],
    [`${"x".repeat(129)}yzw`, /at most 128/],
  ])("refuses %s", (password, problem) => {
    expect(passwordProblems(password, { username: "alice" }).join(" ")).toMatch(problem);
  });
});
