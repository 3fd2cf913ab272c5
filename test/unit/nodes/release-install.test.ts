import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TransferProgress } from "../../../app/_schemas/agent";
import type { Release } from "../../../app/_schemas/catalog";
import { installRelease, pinnedHash, realDownload } from "../../../app/agent/ops/release-install";
import { RealHost } from "../../../app/agent/real-host";
import { RELEASES } from "../../../app/lib/catalog/releases";

/**
 * The verify-then-install path for real: a fixture tarball shaped like Ollama's (bin/ollama,
 * lib/ollama/...) served by an HTTP server on 127.0.0.1, downloaded by the agent's own downloader,
 * extracted by the real tar into a temp root.
 */

const dir = mkdtempSync(path.join(os.tmpdir(), "freehold-release-"));
let server: http.Server;
let base = "";
let tarball: Buffer;
let sha = "";
afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeAll(async () => {
  const src = path.join(dir, "src");
  mkdirSync(path.join(src, "bin"), { recursive: true });
  mkdirSync(path.join(src, "lib", "ollama"), { recursive: true });
  writeFileSync(path.join(src, "bin", "ollama"), "#!/bin/sh\necho fixture\n", { mode: 0o755 });
  writeFileSync(path.join(src, "lib", "ollama", "libggml-base.so"), randomBytes(300_000));
  execFileSync("tar", ["-czf", path.join(dir, "fixture.tgz"), "-C", src, "bin", "lib"]);
  tarball = readFileSync(path.join(dir, "fixture.tgz"));
  sha = createHash("sha256").update(tarball).digest("hex");
  server = http.createServer((req, res) => {
    if (req.url !== "/v9.9.9/ollama-linux-amd64.tgz") return res.writeHead(404).end();
    res.writeHead(200, { "content-length": tarball.length });
    // In chunks, so progress has several samples.
    let at = 0;
    const next = () => {
      if (at >= tarball.length) return res.end();
      res.write(tarball.subarray(at, at + 65536), next);
      at += 65536;
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

const release = (hash: string): Release => ({
  name: "ollama",
  version: "9.9.9",
  urlPattern: `${base}/v{version}/ollama-linux-{arch}.tgz`,
  files: {
    amd64: { sha256: hash, hashStatus: "verified" },
    arm64: { sha256: hash, hashStatus: "verified" },
  },
  source: "https://example.org/",
});

function host() {
  const transfers: TransferProgress[] = [];
  let clock = 0;
  const h = new RealHost((_m, t) => {
    if (t) transfers.push(t);
  });
  return { h, transfers, now: () => (clock += 1000) };
}

/** Every file under a directory, relative. */
function tree(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

describe("installing a pinned release", () => {
  it("installs when the SHA-256 matches; a second run changes nothing", async () => {
    const root = mkdtempSync(path.join(dir, "ok-"));
    const { h, transfers, now } = host();
    const r = release(sha);
    expect(await installRelease(h, { release: r, arch: "amd64", root, download: realDownload, now })).toBe(
      true,
    );
    expect(tree(root)).toEqual([
      "opt/ollama/9.9.9/.freehold-sha256",
      "opt/ollama/9.9.9/bin/ollama",
      "opt/ollama/9.9.9/lib/ollama/libggml-base.so",
    ]);
    expect(execFileSync(path.join(root, "opt/ollama/9.9.9/bin/ollama"), { encoding: "utf8" })).toBe(
      "fixture\n",
    );
    const lastT = transfers.at(-1);
    expect(lastT).toMatchObject({ doneBytes: tarball.length, totalBytes: tarball.length, etaSeconds: 0 });
    expect(transfers.length).toBeGreaterThan(1);
    expect(await installRelease(h, { release: r, arch: "amd64", root, download: realDownload, now })).toBe(
      false,
    );
  });

  it("refuses a download whose SHA-256 differs, naming both hashes, and leaves nothing behind", async () => {
    const root = mkdtempSync(path.join(dir, "bad-"));
    const { h, now } = host();
    const wrong = "0".repeat(64);
    const attempt = installRelease(h, {
      release: release(wrong),
      arch: "amd64",
      root,
      download: realDownload,
      now,
    });
    await expect(attempt).rejects.toThrow(new RegExp(`expected ${wrong}, got ${sha}`));
    expect(tree(root)).toEqual([]);
    expect(existsSync(path.join(root, "opt"))).toBe(false);
  });

  it("refuses the catalog's placeholder hashes before downloading anything", async () => {
    const root = mkdtempSync(path.join(dir, "placeholder-"));
    let fetched = false;
    const { h } = host();
    const attempt = installRelease(h, {
      release: RELEASES.ollama,
      arch: "amd64",
      root,
      download: async () => {
        fetched = true;
        return "";
      },
    });
    await expect(attempt).rejects.toThrow(/placeholder/);
    expect(fetched).toBe(false);
    expect(() => pinnedHash(RELEASES.ollama, "arm64")).toThrow(/placeholder/);
    expect(tree(root)).toEqual([]);
  });
});
