import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimBox, isClaimed } from "../../app/lib/auth/claim";
import { hashPassword } from "../../app/lib/auth/password";
import { readSetupStage } from "../../app/lib/db/setup-stage";
import { hashSetupCode } from "../../app/lib/setup-code/code";
import { tempDb } from "./wizard/temp-db";

// The stage is read with plain SQL on Prisma's tables: each step below is written by the Prisma
// client (the claim through the real claimBox), so a renamed table or column fails here.
describe("the setup stage, read from SQLite without Prisma", () => {
  let t: ReturnType<typeof tempDb>;
  beforeEach(async () => {
    t = tempDb();
    await t.prisma.setupClaim.create({
      data: { id: 1, codeHash: hashSetupCode("ABCDEFGHJKLMNPQR"), source: "console" },
    });
  });
  afterEach(async () => {
    await t.close();
  });

  it("follows the claim and the setup plan: unclaimed, wizard, done", async () => {
    expect(readSetupStage(t.file)).toBe("unclaimed");
    expect(await isClaimed(t.prisma)).toBe(false);

    // A setup plan that is not done yet does not close the wizard, and does not claim the box.
    await t.prisma.plan.create({ data: { id: "p1", kind: "setup", status: "done" } });
    expect(readSetupStage(t.file)).toBe("unclaimed");

    const claimed = await claimBox(
      t.prisma,
      {
        code: "ABCD-EFGH-JKLM-NPQR",
        username: "alice",
        password: "maple river lantern 42",
        passwordConfirm: "maple river lantern 42",
      },
      { remoteAddr: "10.0.0.2", userAgent: null, hash: (p) => hashPassword(p, { log2N: 10, r: 8, p: 1 }) },
    );
    expect(claimed.ok).toBe(true);
    expect(await isClaimed(t.prisma)).toBe(true);
    // The connection stays open between reads: a later write is seen.
    expect(readSetupStage(t.file)).toBe("done");

    await t.prisma.plan.update({ where: { id: "p1" }, data: { status: "applying" } });
    expect(readSetupStage(t.file)).toBe("wizard");
    await t.prisma.plan.create({ data: { id: "c1", kind: "change", status: "done" } });
    expect(readSetupStage(t.file)).toBe("wizard");
    await t.prisma.plan.update({ where: { id: "p1" }, data: { status: "done" } });
    expect(readSetupStage(t.file)).toBe("done");
  });

  it("counts an owner without a recorded claim as claimed, as the claim itself does", async () => {
    await t.prisma.owner.create({ data: { username: "bob", passwordHash: "x" } });
    expect(await isClaimed(t.prisma)).toBe(true);
    expect(readSetupStage(t.file)).toBe("wizard");
  });

  it("never creates a database: a missing file is an error that names it", () => {
    const missing = path.join(t.dir, "nothing-here.db");
    expect(() => readSetupStage(missing)).toThrow(/unable to open database file|nothing-here/);
  });
});
