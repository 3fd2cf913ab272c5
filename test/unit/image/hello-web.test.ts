import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalNodesFileSchema } from "../../../app/_schemas/catalog";
import {
  buildHelloWebArchive,
  busyboxStatic,
  HELLO_WEB,
  helloWebImage,
  INDEX_HTML,
  localNodesJson,
} from "../../../image/hello-web";
import { buildOciArchive, MEDIA, readTar, sha256, tarArchive } from "../../../image/oci-archive";
import { skopeoTool, type Tool } from "../nodes/debian-tools";

/**
 * The hello-web fixture: a deterministic oci-archive (image/oci-archive.ts) of Debian's static
 * busybox running httpd. Checked structurally here (layout, JSON shapes, every blob's digest), then
 * with the real busybox: the same digest twice, skopeo (the containers/image library podman
 * uses) reads it and copies it without rewriting the manifest, and busybox httpd serves the page.
 */

const dir = mkdtempSync(path.join(os.tmpdir(), "freehold-hello-web-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FAKE_BUSYBOX = Buffer.from("\x7fELF not really busybox\n".repeat(100));

/** The archive's files by path, and its JSON documents. */
function open(archive: Buffer) {
  const files = new Map(readTar(archive).map((e) => [e.path, e]));
  const text = (p: string) => files.get(p)?.content?.toString("utf8") ?? "";
  const blob = (digest: string) => files.get(`blobs/sha256/${digest.replace("sha256:", "")}`)?.content;
  return { files, text, blob };
}

function expectValidOci(archive: Buffer, digest: string) {
  const { files, text, blob } = open(archive);
  expect([...files.keys()].slice(0, 4)).toEqual(["oci-layout", "index.json", "blobs/", "blobs/sha256/"]);
  expect(JSON.parse(text("oci-layout"))).toEqual({ imageLayoutVersion: "1.0.0" });
  // Every blob is named by the sha256 of its content.
  const blobs = [...files.values()].filter((e) => e.path.startsWith("blobs/sha256/") && e.content);
  expect(blobs).toHaveLength(3);
  for (const b of blobs) expect(sha256(b.content as Buffer)).toBe(`sha256:${path.basename(b.path)}`);

  const index = JSON.parse(text("index.json"));
  expect(index).toMatchObject({ schemaVersion: 2, mediaType: MEDIA.index });
  expect(index.manifests).toHaveLength(1);
  const [desc] = index.manifests;
  expect(desc).toEqual({
    mediaType: MEDIA.manifest,
    digest,
    size: blob(digest)?.length,
    annotations: { "org.opencontainers.image.ref.name": `${HELLO_WEB.image}:${HELLO_WEB.tag}` },
  });

  const manifest = JSON.parse(blob(digest)?.toString("utf8") ?? "");
  expect(manifest).toMatchObject({ schemaVersion: 2, mediaType: MEDIA.manifest });
  expect(manifest.config.mediaType).toBe(MEDIA.config);
  expect(manifest.config.size).toBe(blob(manifest.config.digest)?.length);
  expect(manifest.layers).toHaveLength(1);
  const [layerDesc] = manifest.layers;
  expect(layerDesc.mediaType).toBe(MEDIA.layer);
  const layer = blob(layerDesc.digest) as Buffer;
  expect(layerDesc.size).toBe(layer.length);

  const config = JSON.parse(blob(manifest.config.digest)?.toString("utf8") ?? "");
  const layerTar = gunzipSync(layer);
  expect(config).toMatchObject({
    os: "linux",
    architecture: expect.stringMatching(/^(amd64|arm64)$/),
    config: {
      Entrypoint: ["/bin/busybox", "httpd", "-f", "-v", "-p", "8080", "-h", "/www"],
      ExposedPorts: { "8080/tcp": {} },
    },
    rootfs: { type: "layers", diff_ids: [sha256(layerTar)] },
  });
  const rootfs = new Map(readTar(layerTar).map((e) => [e.path, e]));
  expect(rootfs.get("bin/busybox")?.mode).toBe(0o755);
  expect(rootfs.get("www/index.html")?.content?.toString()).toBe(INDEX_HTML);
  expect(rootfs.has("data/")).toBe(true);
  return { layerTar, rootfs };
}

describe("the oci-archive builder", () => {
  it("writes ustar archives that read back, padded to 512-byte blocks", () => {
    const tar = tarArchive([
      { path: "a/", mode: 0o755 },
      { path: "a/b.txt", mode: 0o644, content: Buffer.from("hello") },
    ]);
    expect(tar.length % 512).toBe(0);
    expect(readTar(tar)).toEqual([
      { path: "a/", mode: 0o755 },
      { path: "a/b.txt", mode: 0o644, content: Buffer.from("hello") },
    ]);
    // GNU tar agrees: names, modes, owner 0/0, mtime 0.
    const f = path.join(dir, "t.tar");
    writeFileSync(f, tar);
    const r = spawnSync("tar", ["-tvf", f, "--numeric-owner"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^drwxr-xr-x 0\/0 +0 1970-01-01 00:00 a\/$/m);
    expect(r.stdout).toMatch(/^-rw-r--r-- 0\/0 +5 1970-01-01 00:00 a\/b\.txt$/m);
  });

  it("is deterministic and valid OCI (layout, shapes, blob digests)", () => {
    const a = helloWebImage(FAKE_BUSYBOX, "amd64");
    const b = helloWebImage(Buffer.from(FAKE_BUSYBOX), "amd64");
    expect(b.digest).toBe(a.digest);
    expect(b.archive.equals(a.archive)).toBe(true);
    expect(a.digest).toBe(sha256(a.manifest));
    expectValidOci(a.archive, a.digest);
    // Another binary, another digest.
    expect(helloWebImage(Buffer.from("other"), "amd64").digest).not.toBe(a.digest);
    expect(
      buildOciArchive({ refName: "x/y:1", architecture: "arm64", files: [], entrypoint: ["/x"] }).digest,
    ).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("makes a local-nodes.json the box accepts", () => {
    const json = localNodesJson({
      archivePath: HELLO_WEB.guestArchive,
      digest: helloWebImage(FAKE_BUSYBOX).digest,
    });
    expect(LocalNodesFileSchema.safeParse(JSON.parse(json)).success).toBe(true);
  });
});

describe("hello-web with Debian's busybox-static", () => {
  let busybox: string | { skip: string } = { skip: "not fetched yet" };
  let skopeo: Tool = { skip: "not fetched yet" };
  beforeAll(async () => {
    try {
      busybox = await busyboxStatic();
    } catch (e) {
      busybox = { skip: `could not download busybox-static (${(e as Error).message.split("\n")[0]})` };
      console.warn(`SKIPPED: hello-web with the real busybox: ${busybox.skip}`);
    }
    skopeo = await skopeoTool();
    if ("skip" in skopeo) console.warn(`SKIPPED: skopeo checks: ${skopeo.skip}`);
  }, 300_000);

  it("builds the same archive twice (same digest), valid OCI", async (ctx) => {
    if (typeof busybox !== "string") return ctx.skip(busybox.skip);
    const one = await buildHelloWebArchive(path.join(dir, "1", "hello-web.oci.tar"), { busybox });
    const two = await buildHelloWebArchive(path.join(dir, "2", "hello-web.oci.tar"), { busybox });
    expect(two.digest).toBe(one.digest);
    const archive = readFileSync(one.archivePath);
    expect(readFileSync(two.archivePath).equals(archive)).toBe(true);
    const { rootfs } = expectValidOci(archive, one.digest);
    expect(rootfs.get("bin/busybox")?.content?.equals(readFileSync(busybox))).toBe(true);
  });

  it("is read by containers/image (skopeo) with our digest, and copied without rewriting its manifest", async (ctx) => {
    if (typeof busybox !== "string") return ctx.skip(busybox.skip);
    if ("skip" in skopeo) return ctx.skip(skopeo.skip);
    const { archivePath, digest } = await buildHelloWebArchive(path.join(dir, "s", "hello-web.oci.tar"), {
      busybox,
    });
    const run = (args: string[]) =>
      spawnSync((skopeo as { path: string }).path, args, {
        env: { ...process.env, ...(skopeo as { env: Record<string, string> }).env },
        encoding: "utf8",
      });
    const inspect = run(["inspect", `oci-archive:${archivePath}`]);
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ Digest: digest, Os: "linux" });
    const out = path.join(dir, "copied");
    const copy = run(["--insecure-policy", "copy", `oci-archive:${archivePath}`, `oci:${out}:copied`]);
    expect(copy.status, copy.stderr).toBe(0);
    const index = JSON.parse(readFileSync(path.join(out, "index.json"), "utf8"));
    expect(index.manifests[0].digest).toBe(digest);
  });

  it("serves the page with busybox httpd, as the entrypoint does", async (ctx) => {
    if (typeof busybox !== "string") return ctx.skip(busybox.skip);
    const www = path.join(dir, "www");
    mkdirSync(www, { recursive: true });
    writeFileSync(path.join(www, "index.html"), INDEX_HTML);
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const httpd: ChildProcess = spawn(busybox, ["httpd", "-f", "-p", `127.0.0.1:${port}`, "-h", www], {
      stdio: "ignore",
    });
    try {
      let res: Response | null = null;
      for (let i = 0; i < 50 && !res; i++) {
        res = await fetch(`http://127.0.0.1:${port}/`).catch(() => null);
        if (!res) await new Promise((r) => setTimeout(r, 100));
      }
      expect(res?.status).toBe(200);
      expect(await res?.text()).toBe(INDEX_HTML);
    } finally {
      httpd.kill();
    }
  });
});
