/**
 * The session cookie. `__Host-` (Secure, Path=/, no Domain), HttpOnly, SameSite=Strict wherever the
 * browser counts the page as a secure context: always on the appliance (HTTPS only), and in preview
 * mode on http://127.0.0.1 or http://localhost (Chromium accepts Secure and __Host- cookies there;
 * checked with Debian's Chromium). Only a preview served over plain http on another address falls
 * back to the documented name `freehold-session` without Secure, because browsers drop Secure
 * cookies set over such a connection.
 */
export const SECURE_SESSION_COOKIE = "__Host-freehold-session";
export const PREVIEW_SESSION_COOKIE = "freehold-session";

export interface CookieContext {
  mode: "preview" | "appliance";
  /** The request arrived over TLS. */
  tls: boolean;
  /** The Host is a loopback name (a secure context for browsers even over http). */
  loopback: boolean;
}

export interface CookieSpec {
  name: string;
  secure: boolean;
}

export function sessionCookieSpec(ctx: CookieContext): CookieSpec {
  if (ctx.mode === "appliance" || ctx.tls || ctx.loopback)
    return { name: SECURE_SESSION_COOKIE, secure: true };
  return { name: PREVIEW_SESSION_COOKIE, secure: false };
}

/** Set-Cookie value for a session token (or for clearing it when token is null). */
export function serializeSessionCookie(
  spec: CookieSpec,
  token: string | null,
  maxAgeSeconds: number,
): string {
  const parts = [
    `${spec.name}=${token ?? ""}`,
    "Path=/",
    `Max-Age=${token ? maxAgeSeconds : 0}`,
    "HttpOnly",
    "SameSite=Strict",
  ];
  if (spec.secure) parts.push("Secure");
  return parts.join("; ");
}
