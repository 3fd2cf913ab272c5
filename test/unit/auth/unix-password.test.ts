import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { unixPasswordHash, YESCRYPT_HASH } from "../../../app/lib/auth/unix-password";

/** libxcrypt's own check (Python's crypt module, as login and sudo check through PAM). */
function verifies(password: string, hash: string): boolean {
  const r = spawnSync(
    "python3",
    [
      "-W",
      "ignore",
      "-c",
      "import crypt, sys; h = sys.argv[1]; print(crypt.crypt(sys.stdin.read(), h) == h)",
      hash,
    ],
    { input: password, encoding: "utf8" },
  );
  return r.stdout.trim() === "True";
}

describe("the owner's Unix password hash", () => {
  it("is yescrypt (Debian's default), salted, and verifies only with the right password", async () => {
    const password = "maple river lantern 42 ü";
    const hash = await unixPasswordHash(password);
    expect(hash).toMatch(YESCRYPT_HASH);
    const again = await unixPasswordHash(password);
    expect(again).not.toBe(hash);
    expect(verifies(password, hash ?? "")).toBe(true);
    expect(verifies("maple river lantern 43 ü", hash ?? "")).toBe(false);
  });

  it("keeps a password with shell characters and a leading dash intact (stdin, not argv)", async () => {
    const password = "-n $(touch /tmp/x); 'quoted' \\ back";
    const hash = await unixPasswordHash(password);
    expect(verifies(password, hash ?? "")).toBe(true);
  });
});
