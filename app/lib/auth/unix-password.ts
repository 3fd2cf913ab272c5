import { execFile } from "node:child_process";

/**
 * A yescrypt crypt(3) hash of the owner's password for the Unix account (`chpasswd --encrypted`):
 * Debian's own default method, made with `mkpasswd --method=yescrypt --stdin` (package whois, in
 * the image) so the password goes on stdin, never argv. Returns null when mkpasswd is unavailable:
 * the account then gets a locked password (SSH keys only) until the owner sets one from the dashboard.
 */
export function unixPasswordHash(password: string): Promise<string | null> {
  return new Promise((resolve) => {
    const child = execFile(
      "mkpasswd",
      ["--method=yescrypt", "--stdin"],
      { timeout: 10_000 },
      (error, stdout) => {
        const hash = stdout.trim();
        resolve(!error && YESCRYPT_HASH.test(hash) ? hash : null);
      },
    );
    child.on("error", () => resolve(null));
    child.stdin?.end(`${password}\n`);
  });
}

/** $y$<params>$<salt>$<43-character hash>, in crypt(3)'s base-64 alphabet. */
export const YESCRYPT_HASH = /^\$y\$[./A-Za-z0-9]+\$[./A-Za-z0-9]+\$[./A-Za-z0-9]{43}$/;
