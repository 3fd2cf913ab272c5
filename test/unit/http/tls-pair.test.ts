import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readTlsPair, waitForTlsPair } from "../../../app/lib/http/tls-pair";
import { selfSignedPair } from "./self-signed";

const dir = mkdtempSync(path.join(tmpdir(), "freehold-tls-pair-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const makePair = (name: string) => selfSignedPair(dir, name);

describe("the web server's TLS pair", () => {
  const a = makePair("a");
  const b = makePair("b");

  it("accepts a certificate with its own key", () => {
    const pair = readTlsPair(a.cert, a.key);
    expect(typeof pair).not.toBe("string");
  });

  it("refuses a key that belongs to another certificate, and says so", () => {
    expect(readTlsPair(a.cert, b.key)).toMatch(/a\.crt and .*b\.key: .*key values mismatch/);
  });

  it("refuses a missing file", () => {
    expect(readTlsPair(path.join(dir, "none.crt"), a.key)).toMatch(/ENOENT/);
  });

  it("waits until freehold-tls has written both files", async () => {
    const cert = path.join(dir, "late.crt");
    const key = path.join(dir, "late.key");
    setTimeout(() => copyFileSync(a.key, key), 50);
    setTimeout(() => copyFileSync(a.cert, cert), 150);
    const pair = await waitForTlsPair(cert, key, 5000, 10);
    expect(pair.cert.toString()).toContain("BEGIN CERTIFICATE");
  });

  it("gives up with the last reason and the unit to check", async () => {
    await expect(waitForTlsPair(a.cert, b.key, 100, 10)).rejects.toThrow(
      /no usable TLS certificate after 0\.1 s \(.*key values mismatch.*\).*journalctl -u freehold-tls/,
    );
  });
});
