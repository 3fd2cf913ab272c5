import { describe, expect, it } from "vitest";
import {
  checkRequest,
  contentSecurityPolicy,
  expectedOrigin,
  isAllowedHost,
  isLoopbackHost,
  parseHost,
} from "../../../app/lib/http/guard";

const policy = { hostnames: ["freehold"], configured: ["box.example.org"] };

describe("Host allowlist", () => {
  it.each([
    "192.168.1.20",
    "192.168.1.20:8443",
    "[fe80::1]",
    "[::1]:3000",
    "localhost:3000",
    "freehold.local",
    "FREEHOLD.LOCAL:443",
    "box.example.org",
    "freehold.local.",
  ])("allows %s", (host) => {
    expect(isAllowedHost(host, policy)).toBe(true);
  });
  it.each([
    undefined,
    "",
    "evil.example.com",
    "freehold",
    "other.local",
    "freehold.local.evil.com",
    "192.168.1.20:99999",
    "[not-ip]",
    "a b",
    "localhost@evil.com",
    "x".repeat(300),
  ])("refuses %s", (host) => {
    expect(isAllowedHost(host, policy)).toBe(false);
  });
  it("allows each of the box's names after a rename (the old one until restart, the new one at once)", () => {
    const renamed = { hostnames: ["freehold", "homebox"], configured: [] };
    expect(isAllowedHost("freehold.local", renamed)).toBe(true);
    expect(isAllowedHost("homebox.local:8443", renamed)).toBe(true);
    expect(isAllowedHost("otherbox.local", renamed)).toBe(false);
  });
  it("parses names and ports", () => {
    expect(parseHost("[::1]:80")).toEqual({ name: "::1", port: 80 });
    expect(parseHost("Box.Local")).toEqual({ name: "box.local", port: null });
  });
});

describe("Origin check", () => {
  const base = { host: "freehold.local", fetchSite: undefined, secure: true };
  it("lets GET and HEAD through without an Origin", () => {
    expect(checkRequest({ ...base, method: "GET", origin: undefined }, policy)).toEqual({ ok: true });
    expect(checkRequest({ ...base, method: "HEAD", origin: undefined }, policy)).toEqual({ ok: true });
  });
  it("requires the exact origin on every other method", () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
      expect(checkRequest({ ...base, method, origin: "https://freehold.local" }, policy).ok).toBe(true);
      expect(checkRequest({ ...base, method, origin: undefined }, policy).ok).toBe(false);
      expect(checkRequest({ ...base, method, origin: "null" }, policy).ok).toBe(false);
      expect(checkRequest({ ...base, method, origin: "http://freehold.local" }, policy).ok).toBe(false);
      expect(checkRequest({ ...base, method, origin: "https://freehold.local:8443" }, policy).ok).toBe(false);
      expect(checkRequest({ ...base, method, origin: "https://evil.example.com" }, policy).ok).toBe(false);
    }
  });
  it("normalizes the default port and keeps others", () => {
    expect(expectedOrigin("freehold.local:443", true)).toBe("https://freehold.local");
    expect(expectedOrigin("127.0.0.1:3310", false)).toBe("http://127.0.0.1:3310");
    expect(expectedOrigin("[::1]:80", false)).toBe("http://[::1]");
  });
  it("refuses cross-site fetch metadata even with a matching Origin, and checks upgrades", () => {
    expect(
      checkRequest(
        { ...base, method: "POST", origin: "https://freehold.local", fetchSite: "cross-site" },
        policy,
      ).ok,
    ).toBe(false);
    expect(checkRequest({ ...base, method: "GET", origin: undefined, upgrade: true }, policy).ok).toBe(false);
    expect(
      checkRequest({ ...base, method: "GET", origin: "https://freehold.local", upgrade: true }, policy).ok,
    ).toBe(true);
  });
  it("answers 421 for a foreign Host before looking at the Origin", () => {
    expect(
      checkRequest({ ...base, host: "evil.com", method: "POST", origin: "https://evil.com" }, policy),
    ).toMatchObject({
      ok: false,
      status: 421,
    });
  });
});

describe("CSP", () => {
  it("has the nonce, frame-ancestors 'none' and no unsafe-inline scripts", () => {
    const csp = contentSecurityPolicy("abc123", false);
    expect(csp).toContain("script-src 'self' 'nonce-abc123' 'strict-dynamic'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).not.toContain("unsafe-eval");
    expect(contentSecurityPolicy("x", true)).toContain("unsafe-eval");
  });
  it("knows loopback hosts", () => {
    expect(isLoopbackHost("127.0.0.1:3310")).toBe(true);
    expect(isLoopbackHost("localhost")).toBe(true);
    expect(isLoopbackHost("[::1]:3000")).toBe(true);
    expect(isLoopbackHost("192.168.1.2")).toBe(false);
  });
});
