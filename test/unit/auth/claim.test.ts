import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimBox } from "../../../app/lib/auth/claim";
import { login } from "../../../app/lib/auth/login";
import { hashPassword } from "../../../app/lib/auth/password";
import { readSession, sessionIdOf } from "../../../app/lib/auth/session";
import { hashSetupCode } from "../../../app/lib/setup-code/code";
import { tempDb } from "../wizard/temp-db";

const CODE = "ABCD-EFGH-JKLM-NPQR";
const fastHash = (p: string) => hashPassword(p, { log2N: 10, r: 8, p: 1 });
const input = (over: Partial<Parameters<typeof claimBox>[1]> = {}) => ({
  code: CODE,
  username: "alice",
  password: "maple river lantern 42",
  passwordConfirm: "maple river lantern 42",
  ...over,
});

describe("claiming the box", () => {
  let t: ReturnType<typeof tempDb>;
  beforeEach(async () => {
    t = tempDb();
    await t.prisma.setupClaim.create({
      data: { id: 1, codeHash: hashSetupCode("ABCDEFGHJKLMNPQR"), source: "preview" },
    });
  });
  afterEach(async () => {
    await t.close();
  });

  it("refuses a wrong code, then accepts the right one and closes for good", async () => {
    const ctx = { remoteAddr: "10.0.0.2", userAgent: null, hash: fastHash };
    expect(await claimBox(t.prisma, input({ code: "ABCD-EFGH-JKLM-NPQS" }), ctx)).toMatchObject({
      ok: false,
      error: "bad-code",
    });
    const ok = await claimBox(t.prisma, input(), ctx);
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    const session = await readSession(t.prisma, ok.token);
    expect(session?.owner.username).toBe("alice");
    // Only the hash of the token is stored.
    expect(await t.prisma.session.findUnique({ where: { id: sessionIdOf(ok.token) } })).not.toBeNull();
    expect(await t.prisma.session.findUnique({ where: { id: ok.token } })).toBeNull();
    // Replaying the right code, from anywhere, is refused.
    expect(
      await claimBox(t.prisma, input({ username: "mallory" }), { ...ctx, remoteAddr: "10.0.0.3" }),
    ).toMatchObject({
      ok: false,
      status: 403,
      error: "closed",
    });
    const actions = (await t.prisma.auditEvent.findMany()).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["setup.claim.failed", "setup.claimed"]));
  });

  it("gives two racing browsers exactly one owner", async () => {
    const results = await Promise.all(
      ["alice", "mallory", "eve", "trent"].map((username, i) =>
        claimBox(t.prisma, input({ username }), {
          remoteAddr: `10.0.0.${i}`,
          userAgent: null,
          hash: fastHash,
        }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.error === "closed")).toHaveLength(3);
    expect(await t.prisma.owner.count()).toBe(1);
  });

  it("lets the database alone decide between processes: the conditional UPDATE closes once", async () => {
    const other = t.open();
    const first = await t.prisma.setupClaim.updateMany({
      where: { id: 1, claimedAt: null },
      data: { claimedAt: new Date() },
    });
    const second = await other.setupClaim.updateMany({
      where: { id: 1, claimedAt: null },
      data: { claimedAt: new Date() },
    });
    expect([first.count, second.count]).toEqual([1, 0]);
    await other.$disconnect();
  });

  it("checks the password policy before spending a code attempt", async () => {
    const r = await claimBox(t.prisma, input({ password: "short", passwordConfirm: "short" }), {
      remoteAddr: "x",
      userAgent: null,
      hash: fastHash,
    });
    expect(r).toMatchObject({ ok: false, status: 422, error: "invalid" });
    expect(await t.prisma.rateLimit.count()).toBe(0);
  });

  it("rate limits wrong codes per address with growing delays, even for the right code", async () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const ctx = { remoteAddr: "10.9.9.9", userAgent: null, hash: fastHash, now };
    for (let i = 0; i < 5; i++) await claimBox(t.prisma, input({ code: "ZZZZ-ZZZZ-ZZZZ-ZZZZ" }), ctx);
    const sixth = await claimBox(t.prisma, input({ code: "ZZZZ-ZZZZ-ZZZZ-ZZZZ" }), ctx);
    expect(sixth).toMatchObject({ ok: false, error: "bad-code", retryAfterMs: 2000 });
    expect(await claimBox(t.prisma, input(), ctx)).toMatchObject({ ok: false, status: 429 });
    expect(await claimBox(t.prisma, input(), { ...ctx, now: new Date(now.getTime() + 2001) })).toMatchObject({
      ok: true,
    });
  });

  it("signs in with rate limiting, and TOTP when enabled", async () => {
    const ok = await claimBox(t.prisma, input(), { remoteAddr: "a", userAgent: null, hash: fastHash });
    expect(ok.ok).toBe(true);
    const ctx = { remoteAddr: "10.1.1.1", userAgent: null };
    expect(
      await login(t.prisma, { username: "alice", password: "maple river lantern 42" }, ctx),
    ).toMatchObject({ ok: true });
    for (let i = 0; i < 5; i++) {
      expect(await login(t.prisma, { username: "alice", password: "wrong password!!" }, ctx)).toMatchObject({
        ok: false,
        status: 401,
      });
    }
    expect(await login(t.prisma, { username: "alice", password: "wrong password!!" }, ctx)).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(
      await login(t.prisma, { username: "alice", password: "maple river lantern 42" }, ctx),
    ).toMatchObject({
      ok: false,
      status: 429,
    });
  });
});
