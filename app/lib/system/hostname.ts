import { readFileSync } from "node:fs";
import os from "node:os";

/**
 * The box's names as the web app should answer to them. freehold-web runs with ProtectHostname=yes,
 * so os.hostname() stays what it was when the service started; the wizard's hostname.set changes
 * /etc/hostname (and what avahi publishes) underneath. Both count: the page that renamed the box
 * keeps working on the old name, and the new one works at once, until the next restart.
 */
export function boxHostnames(file = "/etc/hostname", started = os.hostname(), now = Date.now()): string[] {
  // Asked on every request: read the file at most every CACHE_MS, not per request.
  if (cache && cache.file === file && cache.started === started && now - cache.at < CACHE_MS)
    return cache.names;
  const names = [started];
  const current = readHostnameFile(file);
  if (current && current !== started) names.push(current);
  cache = { file, started, at: now, names };
  return names;
}

const CACHE_MS = 2000;
let cache: { file: string; started: string; at: number; names: string[] } | undefined;

/** The first line of /etc/hostname when it is a valid host name (RFC 1123 labels), else null. */
export function readHostnameFile(file: string): string | null {
  let text: string;
  try {
    text = readFileSync(/* turbopackIgnore: true */ file, "utf8");
  } catch {
    return null;
  }
  const name = (text.split("\n")[0] ?? "").trim().toLowerCase();
  return /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(
    name,
  )
    ? name
    : null;
}
