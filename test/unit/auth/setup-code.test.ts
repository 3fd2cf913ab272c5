import { describe, expect, it } from "vitest";
import {
  formatSetupCode,
  generateSetupCode,
  hashSetupCode,
  normalizeSetupCode,
  SETUP_CODE_ALPHABET,
  setupCodeMatches,
} from "../../../app/lib/setup-code/code";

describe("setup codes", () => {
  it("are 16 characters in groups of four from an alphabet without look-alikes", () => {
    for (let i = 0; i < 50; i++) {
      const code = generateSetupCode();
      expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
      expect(code).not.toMatch(/[IO01]/);
    }
    expect(SETUP_CODE_ALPHABET).toHaveLength(32);
  });

  it("compare ignoring case, dashes and spaces", () => {
    const hash = hashSetupCode("ABCDEFGHJKLMNPQR");
    expect(setupCodeMatches("ABCD-EFGH-JKLM-NPQR", hash)).toBe(true);
    expect(setupCodeMatches("abcd efgh jklm npqr", hash)).toBe(true);
    expect(setupCodeMatches(" abcdefghjklmnpqr ", hash)).toBe(true);
    expect(setupCodeMatches("ABCD-EFGH-JKLM-NPQS", hash)).toBe(false);
    expect(setupCodeMatches("ABCD-EFGH-JKLM", hash)).toBe(false);
    expect(setupCodeMatches("ABCD-EFGH-JKLM-NPQ0", hash)).toBe(false);
    expect(setupCodeMatches("", hash)).toBe(false);
  });

  it("normalize and format", () => {
    expect(normalizeSetupCode("abcd-efgh-jklm-npqr")).toBe("ABCDEFGHJKLMNPQR");
    expect(normalizeSetupCode("ABCD-EFGH-JKLM-NPQ1")).toBeNull();
    expect(formatSetupCode("ABCDEFGHJKLMNPQR")).toBe("ABCD-EFGH-JKLM-NPQR");
  });
});
