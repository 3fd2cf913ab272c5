import "server-only";
import { headers } from "next/headers";
import { type CookieSpec, sessionCookieSpec } from "../lib/auth/cookie";
import { readEnv } from "../lib/env";
import { isLoopbackHost } from "../lib/http/guard";

/** Facts about the current request that scripts/server.ts established (clients cannot set them). */
export interface RequestFacts {
  remoteAddr: string;
  userAgent: string | null;
  tls: boolean;
  cookie: CookieSpec;
}

export async function requestFacts(): Promise<RequestFacts> {
  const h = await headers();
  const tls = h.get("x-freehold-tls") === "1";
  const cookie = sessionCookieSpec({
    mode: readEnv().FREEHOLD_MODE,
    tls,
    loopback: isLoopbackHost(h.get("host") ?? undefined),
  });
  return {
    remoteAddr: h.get("x-freehold-remote-addr") ?? "unknown",
    userAgent: h.get("user-agent"),
    tls,
    cookie,
  };
}
