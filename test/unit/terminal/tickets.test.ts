import { describe, expect, it } from "vitest";
import { TerminalTicketSchema } from "../../../app/_schemas/terminal";
import { TICKET_TTL_MS, TicketStore } from "../../../app/lib/terminal/tickets";

const grant = (sessionId = "s1", terminalId: string | null = null) => ({
  sessionId,
  ownerId: 1,
  username: "alice",
  terminalId,
});

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("terminal tickets", () => {
  it("are 32 random bytes in base64url, each different, redeemable once by their session", () => {
    const store = new TicketStore();
    const a = store.issue(grant());
    const b = store.issue(grant());
    expect(TerminalTicketSchema.safeParse(a.ticket).success).toBe(true);
    expect(a.ticket).not.toBe(b.ticket);
    expect(store.redeem(a.ticket, "s1")).toEqual({ ok: true, grant: grant() });
    expect(store.redeem(a.ticket, "s1")).toEqual({ ok: false, reason: "unknown" });
    expect(store.redeem(b.ticket, "s1").ok).toBe(true);
  });

  it("expire after a minute", () => {
    const c = clock();
    const store = new TicketStore(c.now);
    const early = store.issue(grant());
    const late = store.issue(grant());
    expect(early.expiresAt - c.now()).toBe(TICKET_TTL_MS);
    c.advance(TICKET_TTL_MS - 1);
    expect(store.redeem(early.ticket, "s1").ok).toBe(true);
    c.advance(1);
    expect(store.redeem(late.ticket, "s1")).toEqual({ ok: false, reason: "expired" });
    expect(store.size).toBe(0);
  });

  it("are bound to the session they were issued to, and burnt by a try from another", () => {
    const store = new TicketStore();
    const { ticket } = store.issue(grant("s1"));
    expect(store.redeem(ticket, "s2")).toEqual({ ok: false, reason: "wrong-session" });
    // The rightful session cannot use it afterwards either: a leaked ticket is dead once tried.
    expect(store.redeem(ticket, "s1")).toEqual({ ok: false, reason: "unknown" });
  });

  it("carry the terminal to reattach to", () => {
    const store = new TicketStore();
    const { ticket } = store.issue(grant("s1", "AAAAAAAAAAAAAAAAAAAAAA"));
    expect(store.redeem(ticket, "s1")).toMatchObject({
      ok: true,
      grant: { terminalId: "AAAAAAAAAAAAAAAAAAAAAA" },
    });
  });

  it("are voided at sign-out, and at most 8 per session are outstanding", () => {
    const store = new TicketStore();
    const tickets = Array.from({ length: 10 }, () => store.issue(grant("s1")).ticket);
    const other = store.issue(grant("s2")).ticket;
    expect(store.size).toBe(9);
    expect(store.redeem(tickets[0] ?? "", "s1").ok).toBe(false);
    expect(store.redeem(tickets[1] ?? "", "s1").ok).toBe(false);
    expect(store.redeem(tickets[2] ?? "", "s1").ok).toBe(true);
    store.revokeSession("s1");
    expect(store.redeem(tickets[9] ?? "", "s1").ok).toBe(false);
    expect(store.redeem(other, "s2").ok).toBe(true);
  });
});
