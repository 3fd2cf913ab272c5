import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureSetupCode, waitForSetupCode } from "../../../app/lib/setup-code/bootstrap";
import { hashSetupCode } from "../../../app/lib/setup-code/code";
import { tempDb } from "../wizard/temp-db";

// The appliance's web app starts beside freehold-setup-code, so the code file may appear only
// after the server started: it waits for it before listening.
describe("waiting for the appliance's setup code", () => {
  let t: ReturnType<typeof tempDb>;
  let file: string;
  beforeEach(() => {
    t = tempDb();
    file = path.join(t.dir, "setup-code");
  });
  afterEach(async () => {
    await t.close();
  });
  const options = () => ({ databaseFile: t.file, mode: "appliance" as const, setupCodeFile: file });

  it("waits for a file written later and stores its code's hash", async () => {
    const started = Date.now();
    setTimeout(() => writeFileSync(file, "ABCD-EFGH-JKLM-NPQR\n"), 300);
    const result = await waitForSetupCode(options(), 5000, 20);
    expect(result.state).toBe("issued");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const claim = await t.prisma.setupClaim.findUnique({ where: { id: 1 } });
    expect(claim?.codeHash).toBe(hashSetupCode("ABCDEFGHJKLMNPQR"));
    expect(claim?.source).toBe("console");
  });

  it("answers missing after the timeout, so the server still listens", async () => {
    const result = await waitForSetupCode(options(), 200, 20);
    expect(result.state).toBe("missing");
    expect(await t.prisma.setupClaim.findUnique({ where: { id: 1 } })).toBeNull();
  });

  it("fails at once on a file that holds no code", async () => {
    writeFileSync(file, "not a code\n");
    const started = Date.now();
    await expect(waitForSetupCode(options(), 5000, 20)).rejects.toThrow(/does not hold a setup code/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("does not wait on a claimed box", async () => {
    await t.prisma.setupClaim.create({
      data: { id: 1, codeHash: "x", source: "console", claimedAt: new Date() },
    });
    const started = Date.now();
    expect((await waitForSetupCode(options(), 5000, 20)).state).toBe("claimed");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("counts an owner without a recorded claim as claimed: no code is issued in either mode", async () => {
    await t.prisma.owner.create({ data: { username: "bob", passwordHash: "x" } });
    writeFileSync(file, "ABCD-EFGH-JKLM-NPQR\n");
    expect((await waitForSetupCode(options(), 5000, 20)).state).toBe("claimed");
    expect(ensureSetupCode({ databaseFile: t.file, mode: "preview", setupCodeFile: file }).state).toBe(
      "claimed",
    );
    expect(await t.prisma.setupClaim.findUnique({ where: { id: 1 } })).toBeNull();
  });
});
