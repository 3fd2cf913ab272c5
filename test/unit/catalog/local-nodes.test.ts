import { chmodSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { NodeCatalogSchema } from "../../../app/_schemas/catalog";
import { catalogNodeById, catalogNodes, localNodes, readLocalNodes } from "../../../app/lib/catalog/local";
import { NODES } from "../../../app/lib/catalog/nodes";
import { readEnv } from "../../../app/lib/env";
import { localNodeEntry, localNodesJson } from "../../../image/hello-web";

const dir = mkdtempSync(path.join(os.tmpdir(), "freehold-local-nodes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DIGEST = `sha256:${"a".repeat(64)}`;
const entry = () =>
  localNodeEntry({ archivePath: "/var/lib/freehold-local/hello-web.oci.tar", digest: DIGEST });
let n = 0;
function file(content: unknown, mode = 0o644): string {
  const f = path.join(dir, `local-nodes-${n++}.json`);
  writeFileSync(f, typeof content === "string" ? content : JSON.stringify(content));
  chmodSync(f, mode);
  return f;
}

describe("local nodes", () => {
  it("defaults to /etc/freehold/local-nodes.json, overridable by FREEHOLD_LOCAL_NODES", () => {
    expect(readEnv({}).FREEHOLD_LOCAL_NODES).toBe("/etc/freehold/local-nodes.json");
    expect(readEnv({ FREEHOLD_LOCAL_NODES: "/tmp/x.json" }).FREEHOLD_LOCAL_NODES).toBe("/tmp/x.json");
    expect(() => readEnv({ FREEHOLD_LOCAL_NODES: "relative.json" })).toThrow(/FREEHOLD_LOCAL_NODES/);
  });

  it("adds valid local nodes after the built-in ones, marked local", () => {
    const f = file(
      localNodesJson({ archivePath: "/var/lib/freehold-local/hello-web.oci.tar", digest: DIGEST }),
    );
    const all = catalogNodes(f);
    expect(all.slice(0, NODES.length)).toEqual(NODES);
    expect(all.at(-1)).toMatchObject({
      id: "hello-web",
      origin: "local",
      install: [{ kind: "oci", digest: DIGEST, digestStatus: "verified", archive: expect.any(String) }],
      ports: [{ port: 8080, exposure: "lan" }],
      health: [{ kind: "http", port: 8080, path: "/", expectStatus: 200 }],
    });
    expect(catalogNodeById("hello-web", f)?.origin).toBe("local");
    expect(localNodes(f).problem).toBeNull();
    // The whole list still passes the catalog's own checks.
    expect(NodeCatalogSchema.safeParse(all).success).toBe(true);
  });

  it("a missing file means the built-in catalog, without a problem", () => {
    const f = path.join(dir, "absent.json");
    expect(catalogNodes(f)).toEqual(NODES);
    expect(localNodes(f).problem).toBeNull();
  });

  it.each([
    ["not JSON", "{nodes:", /not JSON/],
    ["an unknown field", { nodes: [{ ...entry(), colour: "red" }] }, /nodes\.0: Unrecognized key.*colour/],
    [
      "a placeholder digest",
      { nodes: [{ ...entry(), install: [{ ...entry().install[0], digestStatus: "placeholder" }] }] },
      /nodes\.0\.install\.0\.digestStatus: must be "verified": you vouch for this digest/,
    ],
    [
      "a Debian install",
      {
        nodes: [
          {
            ...entry(),
            install: [{ kind: "debian", package: "nginx", suite: "trixie", source: "https://x.org/" }],
          },
        ],
      },
      /nodes\.0\.install\.0\.kind: a local node runs containers only/,
    ],
    ["no origin", { nodes: [{ ...entry(), origin: undefined }] }, /nodes\.0\.origin/],
    ["a built-in id", { nodes: [{ ...entry(), id: "caddy" }] }, /caddy: the id of a built-in node/],
    [
      "an unknown dependency",
      { nodes: [{ ...entry(), dependsOn: [{ node: "nope", why: "x" }] }] },
      /nodes\.0\.dependsOn\.0: unknown node nope/,
    ],
    [
      "a relative archive",
      { nodes: [{ ...entry(), install: [{ ...entry().install[0], archive: "hello.tar" }] }] },
      /nodes\.0\.install\.0\.archive: an absolute path/,
    ],
  ])("ignores a file with %s, naming the file and the problem", (_what, content, problem) => {
    const f = file(content);
    const local = readLocalNodes(f);
    expect(local.nodes).toEqual([]);
    expect(local.problem).toContain(`${f} is ignored (only the built-in catalog is offered): `);
    expect(local.problem).toMatch(problem);
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(catalogNodes(f)).toEqual(NODES);
    catalogNodes(f);
    // Reported once per version of the file, not at every read.
    expect(error).toHaveBeenCalledTimes(1);
    expect(String(error.mock.calls[0]?.[0])).toContain(f);
    error.mockRestore();
  });

  it("refuses a file others than its owner can write", () => {
    const f = file({ nodes: [entry()] }, 0o666);
    expect(readLocalNodes(f).problem).toMatch(/writable by others than its owner \(mode 666\)/);
  });

  it("re-reads the file when it changes (by mtime), and not otherwise", () => {
    const f = file({ nodes: [] });
    const first = catalogNodes(f);
    expect(catalogNodes(f)).toBe(first);
    writeFileSync(f, JSON.stringify({ nodes: [entry()] }));
    utimesSync(f, new Date(), new Date(Date.now() + 5000));
    expect(catalogNodes(f).map((x) => x.id)).toContain("hello-web");
  });

  it("lets only local nodes name an image archive", () => {
    const caddyLike = { ...entry(), id: "other", origin: undefined };
    const r = NodeCatalogSchema.safeParse([...NODES, caddyLike]);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain("only a local node loads an image archive");
  });
});
