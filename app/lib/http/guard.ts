import { isIP } from "node:net";

/**
 * The checks in front of every request (scripts/server.ts runs them before Next sees anything):
 * a Host allowlist against DNS rebinding, and an exact Origin match on every state-changing
 * request and WebSocket upgrade. Pure functions, so the unit tests cover every branch.
 */

export interface HostPolicy {
  /**
   * The box's names (app/lib/system/hostname.ts): `<name>.local` is allowed for each, so a rename
   * in the wizard neither locks out the page that made it nor the new name.
   */
  hostnames: readonly string[];
  /** Names the owner configured (FREEHOLD_ALLOWED_HOSTS), lower case, without port. */
  configured: readonly string[];
}

/** Splits a Host header into name and port; null when it is not a well-formed host[:port]. */
export function parseHost(host: string | undefined): { name: string; port: number | null } | null {
  if (!host || host.length > 255) return null;
  const lower = host.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(lower);
  if (bracketed) {
    const name = bracketed[1] ?? "";
    if (isIP(name) !== 6) return null;
    return { name, port: portOf(bracketed[2]) };
  }
  const plain = /^([a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(lower);
  if (!plain) return null;
  const name = (plain[1] ?? "").replace(/\.$/, "");
  if (!name) return null;
  const port = portOf(plain[2]);
  if (port === -1) return null;
  return { name, port };
}

function portOf(text: string | undefined): number | null {
  if (text === undefined) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : -1;
}

export function isAllowedHost(host: string | undefined, policy: HostPolicy): boolean {
  const parsed = parseHost(host);
  if (!parsed || parsed.port === -1) return false;
  const { name } = parsed;
  if (isIP(name) !== 0) return true;
  if (name === "localhost") return true;
  for (const hostname of policy.hostnames) {
    const short = hostname.toLowerCase().replace(/\.local$/, "");
    if (short && name === `${short}.local`) return true;
  }
  return policy.configured.includes(name);
}

/** Methods that must not change state; everything else needs a same-origin Origin header. */
export const SAFE_METHODS = new Set(["GET", "HEAD"]);

export interface RequestFacts {
  method: string;
  host: string | undefined;
  origin: string | undefined;
  /** Sec-Fetch-Site, when the browser sent it. */
  fetchSite: string | undefined;
  /** Served over TLS. */
  secure: boolean;
  upgrade?: boolean;
}

export type GuardResult = { ok: true } | { ok: false; status: 400 | 403 | 421; reason: string };

function defaultPort(secure: boolean): number {
  return secure ? 443 : 80;
}

/** The origin a browser sends for a page served on this Host, port normalized away when default. */
export function expectedOrigin(host: string, secure: boolean): string | null {
  const parsed = parseHost(host);
  if (!parsed) return null;
  const name = isIP(parsed.name) === 6 ? `[${parsed.name}]` : parsed.name;
  const port = parsed.port === null || parsed.port === defaultPort(secure) ? "" : `:${parsed.port}`;
  return `${secure ? "https" : "http"}://${name}${port}`;
}

export function checkRequest(facts: RequestFacts, policy: HostPolicy): GuardResult {
  if (!isAllowedHost(facts.host, policy)) {
    return { ok: false, status: 421, reason: "This address is not one of the box's names." };
  }
  const needsOrigin = facts.upgrade === true || !SAFE_METHODS.has(facts.method.toUpperCase());
  if (!needsOrigin) return { ok: true };
  if (facts.fetchSite && facts.fetchSite !== "same-origin") {
    return { ok: false, status: 403, reason: "Cross-site requests are refused." };
  }
  const expected = expectedOrigin(facts.host ?? "", facts.secure);
  if (!facts.origin || facts.origin.toLowerCase() !== expected) {
    return { ok: false, status: 403, reason: "The request's Origin does not match this site." };
  }
  return { ok: true };
}

/** The Content-Security-Policy for one response; `nonce` is fresh per request. */
export function contentSecurityPolicy(nonce: string, dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Loopback names where browsers treat plain http as a secure context. */
export function isLoopbackHost(host: string | undefined): boolean {
  const parsed = parseHost(host);
  if (!parsed) return false;
  return parsed.name === "localhost" || parsed.name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(parsed.name);
}
