import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type CatalogNode, LocalNodeSchema } from "../../../app/_schemas/catalog";
import type { Probes } from "../../../app/agent/ops/node-health";
import {
  loadedImages,
  makeNodeInstall,
  nodeInstall,
  podmanDigest,
  podmanImageExists,
  podmanLoad,
} from "../../../app/agent/ops/node-install";
import { NODES } from "../../../app/lib/catalog/nodes";
import { RELEASES } from "../../../app/lib/catalog/releases";
import { localNodeEntry, localNodesJson } from "../../../image/hello-web";
import { expectPreviewFollowed, RecordingHost } from "../agent/recording-host";

const ARCHIVE = "/var/lib/freehold-local/hello-web.oci.tar";
const PIN = `sha256:${"b".repeat(64)}`;
const OTHER = `sha256:${"c".repeat(64)}`;
const LOADED_AS = "localhost/freehold/hello-web:1";
const PINNED = `localhost/freehold/hello-web@${PIN}`;
const QUADLET = "/etc/containers/systemd/freehold-hello-web.container";

const hello = LocalNodeSchema.parse(localNodeEntry({ archivePath: ARCHIVE, digest: PIN })) as CatalogNode;

/** A box with podman's image store as state: `podman load` adds the archive's image. */
function box(opts: { archiveDigest?: string; loadedAs?: string; archivePresent?: boolean } = {}) {
  const images = new Map<string, string>(); // name -> digest
  const active = new Set<string>();
  const loadedAs = opts.loadedAs ?? LOADED_AS;
  const host = new RecordingHost()
    .on(["dpkg", "--print-architecture"], { stdout: "amd64\n" })
    .on(["findmnt"], { stdout: "/dev/mapper/freehold-data ext4 uuid\n" })
    .on(["systemctl", "is-active", "--"], (argv) => ({ code: active.has(argv[3] ?? "") ? 0 : 3 }))
    .on(["systemctl", "start", "--"], (argv) => {
      active.add(argv[3] ?? "");
      return {};
    })
    .on(["podman", "image", "exists", "--"], (argv) => {
      const [repo, digest] = (argv[4] ?? "").split("@");
      const found = [...images].some(([name, d]) => name.split(":")[0] === repo && d === digest);
      return { code: found ? 0 : 1 };
    })
    .on(["podman", "load", "--input"], () => {
      images.set(loadedAs, opts.archiveDigest ?? PIN);
      return { stdout: `Getting image source signatures\nLoaded image: ${loadedAs}\n` };
    })
    .on(["podman", "image", "inspect"], (argv) => ({ stdout: `${images.get(argv.at(-1) ?? "") ?? ""}\n` }))
    .on(["podman", "tag"], (argv) => {
      images.set(argv[3] ?? "", images.get(argv[2] ?? "") ?? "");
      return {};
    })
    .on(["podman", "image", "rm", "--"], (argv) => {
      images.delete(argv[4] ?? "");
      return {};
    });
  if (opts.archivePresent !== false) host.present.add(ARCHIVE);
  const reachable = new Set<number>([8080]);
  const probes: Probes = {
    tcp: async (p) => reachable.has(p),
    http: async (p) => (reachable.has(p) ? 200 : null),
    sleep: async () => {},
  };
  const op = makeNodeInstall({
    nodes: () => [...NODES, hello],
    probes,
    download: async () => "",
    releases: RELEASES,
    healthAttempts: 2,
    healthIntervalMs: 1,
  });
  return { host, op, images };
}

const podmanLines = (host: RecordingHost) => host.lines().filter((l) => l.startsWith("podman"));

describe("node.install of a local node from an image archive", () => {
  it("loads the archive, checks the digest, tags it, and runs it with Pull=never; a second run loads nothing", async () => {
    const { host, op } = box();
    const outcome = await op.run({ id: "hello-web" }, {}, host);
    expect(outcome).toMatchObject({ changed: true, verified: true, detail: { node: "hello-web" } });
    expect(podmanLines(host)).toEqual([
      `podman image exists -- ${PINNED}`,
      `podman load --input ${ARCHIVE}`,
      `podman image inspect --format {{.Digest}} -- ${LOADED_AS}`,
      `podman image exists -- ${PINNED}`,
    ]);
    // The argv is an array: the path is one argument, never a shell word.
    expect(host.calls.find((c) => c.argv[1] === "load")?.argv).toEqual(podmanLoad(ARCHIVE));
    const quadlet = host.files.get(QUADLET)?.content ?? "";
    expect(quadlet).toContain(`Image=${PINNED}\n`);
    expect(quadlet).toContain("Pull=never\n");
    expect(quadlet).not.toContain("Pull=missing");
    expect(quadlet).toContain("PublishPort=8080:8080\n");
    expect(host.lines()).toContain("systemctl start -- freehold-hello-web.service");
    // Loaded before the unit starts.
    expect(host.lines().indexOf(`podman load --input ${ARCHIVE}`)).toBeLessThan(
      host.lines().indexOf("systemctl start -- freehold-hello-web.service"),
    );
    expectPreviewFollowed(op.preview({ id: "hello-web" }), host.calls);

    host.reset();
    expect(await op.run({ id: "hello-web" }, {}, host)).toMatchObject({ changed: false, verified: true });
    expect(podmanLines(host)).toEqual([`podman image exists -- ${PINNED}`]);
  });

  it("tags the loaded image image:tag when the archive named it otherwise", async () => {
    const { host, op, images } = box({ loadedAs: "localhost/something-else:latest" });
    await op.run({ id: "hello-web" }, {}, host);
    expect(podmanLines(host)).toContain(`podman tag localhost/something-else:latest ${LOADED_AS}`);
    expect(images.get(LOADED_AS)).toBe(PIN);
  });

  it("refuses an archive whose digest is not the pin: removes what it loaded, writes no quadlet", async () => {
    const { host, op, images } = box({ archiveDigest: OTHER });
    const error = await op.run({ id: "hello-web" }, {}, host).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "OpError" });
    const { message, hint } = error as { message: string; hint?: string };
    expect(message).toContain(`has the digest ${OTHER}, not the pinned ${PIN}`);
    expect(message).toContain("refusing to run an image other than the one pinned");
    expect(hint).toMatch(/put its manifest digest in the local nodes file.*oci-archive/);
    expect(podmanLines(host)).toEqual([
      `podman image exists -- ${PINNED}`,
      `podman load --input ${ARCHIVE}`,
      `podman image inspect --format {{.Digest}} -- ${LOADED_AS}`,
      `podman image rm -- ${LOADED_AS}`,
    ]);
    expect(images.size).toBe(0);
    expect(host.files.has(QUADLET)).toBe(false);
    expect(host.lines().some((l) => l.startsWith("systemctl start"))).toBe(false);
  });

  it("says what to do when the archive is not on the box", async () => {
    const { host, op } = box({ archivePresent: false });
    await expect(op.run({ id: "hello-web" }, {}, host)).rejects.toThrow(
      `the image archive ${ARCHIVE} is not on this box, and podman has no ${PINNED}`,
    );
    expect(podmanLines(host)).toEqual([`podman image exists -- ${PINNED}`]);
  });

  it("parses podman load's output (podman 4/5 and 3)", () => {
    expect(loadedImages("Getting image source signatures\nLoaded image: localhost/a:1\n")).toEqual([
      "localhost/a:1",
    ]);
    expect(loadedImages("Loaded image(s): localhost/a:1,localhost/b:2\n")).toEqual([
      "localhost/a:1",
      "localhost/b:2",
    ]);
    expect(podmanImageExists("x")).toEqual(["podman", "image", "exists", "--", "x"]);
    expect(podmanDigest("x")).toEqual(["podman", "image", "inspect", "--format", "{{.Digest}}", "--", "x"]);
  });
});

describe("the agent's catalog (catalogNodes from FREEHOLD_LOCAL_NODES)", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "freehold-local-install-"));
  const saved = process.env.FREEHOLD_LOCAL_NODES;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    if (saved === undefined) delete process.env.FREEHOLD_LOCAL_NODES;
    else process.env.FREEHOLD_LOCAL_NODES = saved;
  });

  it("sees the owner's local node, and still refuses the built-in placeholders", async () => {
    const file = path.join(dir, "local-nodes.json");
    writeFileSync(file, localNodesJson({ archivePath: ARCHIVE, digest: PIN }));
    chmodSync(file, 0o644);
    process.env.FREEHOLD_LOCAL_NODES = file;
    const { host } = box();
    expect(nodeInstall.preview({ id: "hello-web" }).map((c) => c.argv.join(" "))).toContain(
      `podman load --input ${ARCHIVE}`,
    );
    await expect(nodeInstall.run({ id: "bitcoin-core" }, {}, host)).rejects.toThrow(
      /placeholder.*refusing to run an unverified image/,
    );
    expect(podmanLines(host)).toEqual([]);
  });
});
