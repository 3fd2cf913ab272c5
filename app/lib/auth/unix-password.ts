import { execFile } from "node:child_process";

/**
 * A SHA-512 crypt(3) hash of the owner's password for the Unix account (`chpasswd --encrypted`),
 * made with `openssl passwd -6 -stdin` so the password goes on stdin, never argv. Returns null when
 * openssl is unavailable: the account then gets a locked password (SSH keys only) until the owner
 * sets one from the dashboard.
 */
export function unixPasswordHash(password: string): Promise<string | null> {
  return new Promise((resolve) => {
    const child = execFile("openssl", ["passwd", "-6", "-stdin"], { timeout: 10_000 }, (error, stdout) => {
      const hash = stdout.trim();
      resolve(!error && /^\$6\$[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{86}$/.test(hash) ? hash : null);
    });
    child.on("error", () => resolve(null));
    child.stdin?.end(`${password}\n`);
  });
}
