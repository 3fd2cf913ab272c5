import { describe, expect, it } from "vitest";
import {
  PREVIEW_SESSION_COOKIE,
  SECURE_SESSION_COOKIE,
  serializeSessionCookie,
  sessionCookieSpec,
} from "../../../app/lib/auth/cookie";

describe("the session cookie", () => {
  it("is __Host-, Secure, HttpOnly, SameSite=Strict on the appliance", () => {
    const spec = sessionCookieSpec({ mode: "appliance", tls: true, loopback: false });
    expect(spec).toEqual({ name: SECURE_SESSION_COOKIE, secure: true });
    const header = serializeSessionCookie(spec, "tok", 60);
    expect(header).toBe("__Host-freehold-session=tok; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure");
    expect(header).not.toMatch(/Domain=/);
  });

  it("keeps __Host- in preview on loopback over http (Chromium treats it as a secure context)", () => {
    expect(sessionCookieSpec({ mode: "preview", tls: false, loopback: true })).toEqual({
      name: SECURE_SESSION_COOKIE,
      secure: true,
    });
  });

  it("falls back to a plain name without Secure only in preview over http on another address", () => {
    const spec = sessionCookieSpec({ mode: "preview", tls: false, loopback: false });
    expect(spec).toEqual({ name: PREVIEW_SESSION_COOKIE, secure: false });
    expect(serializeSessionCookie(spec, "tok", 60)).toBe(
      "freehold-session=tok; Path=/; Max-Age=60; HttpOnly; SameSite=Strict",
    );
    // The appliance never falls back, whatever the transport claims.
    expect(sessionCookieSpec({ mode: "appliance", tls: false, loopback: false }).secure).toBe(true);
  });

  it("clears with Max-Age=0", () => {
    expect(serializeSessionCookie({ name: SECURE_SESSION_COOKIE, secure: true }, null, 60)).toContain(
      "Max-Age=0",
    );
  });
});
