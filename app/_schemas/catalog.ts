import { z } from "zod";

/** The node catalog and the model catalog: data checked by these schemas when loaded. */

const Id = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and dashes");
const Bytes = z.number().int().nonnegative();
/** Where a figure comes from: a URL, optionally followed by a note. */
const Source = z.string().regex(/^https:\/\/\S+( — .+)?$/, "an https URL, optionally followed by ' — note'");

export const ArchSchema = z.enum(["amd64", "arm64"]);
export type Arch = z.infer<typeof ArchSchema>;

const PortNumber = z.number().int().min(1).max(65535);
/** A systemd unit name (no path, no template instance arguments that need quoting). */
const UnitName = z.string().regex(/^[a-zA-Z0-9@._-]+\.(service|socket|timer)$/);

/**
 * How to tell that a node works, besides its systemd units being active: a TCP port accepting
 * connections on localhost, or an HTTP GET on localhost answering with the expected status.
 */
export const HealthCheckSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("tcp"), port: PortNumber }),
  z.strictObject({
    kind: z.literal("http"),
    port: PortNumber,
    path: z.string().regex(/^\/[A-Za-z0-9._~/?=&%-]*$/),
    expectStatus: z.number().int().min(100).max(599),
  }),
]);
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

export const InstallSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("debian"),
    /** The binary package name in Debian trixie (main). */
    package: z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/),
    suite: z.enum(["trixie", "trixie-backports"]),
    source: Source,
    /** The systemd unit the package ships (default: `<package>.service`). */
    unit: UnitName.optional(),
    /**
     * Packages Debian only recommends but the node cannot start without (apt runs with
     * --no-install-recommends), installed in the same apt-get call.
     */
    with: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/))
      .max(10)
      .optional(),
  }),
  z.strictObject({
    kind: z.literal("oci"),
    /** registry/repository, without tag or digest. */
    image: z.string().regex(/^[a-z0-9.-]+(:[0-9]+)?\/[a-z0-9._/-]+$/),
    tag: z.string().regex(/^[A-Za-z0-9._-]+$/),
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    /**
     * "placeholder" until someone has pulled the image and recorded its real digest: provisioning
     * must refuse to pull a placeholder. The nodes issue refreshes them.
     */
    digestStatus: z.enum(["placeholder", "verified"]),
    source: Source,
    /** Names the container when a node runs several (unit freehold-<node>-<name>); default: the node's id. */
    name: Id.optional(),
    /** Where the node's directory on the data volume is mounted in the container (default /data). */
    mount: z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]*$/)
      .optional(),
    /** Which of the node's ports this container publishes (default: all of them). */
    ports: z.array(PortNumber).optional(),
    /** The image writes outside its data directory, so its root cannot be read-only (default false). */
    writableRoot: z.boolean().optional(),
    /** Started only when the owner (or the heater policy) turns it on: XMRig. */
    onDemand: z.boolean().optional(),
    /** A command the container runtime runs inside it to tell it is healthy (quadlet HealthCmd). */
    healthCmd: z
      .string()
      .regex(/^[A-Za-z0-9 ._/:=-]+$/)
      .optional(),
    /**
     * Local nodes only: an OCI image archive (oci-archive tar) on this box, absolute path. node.install
     * loads it with `podman load` instead of pulling, checks the loaded manifest digest against
     * `digest`, and the quadlet never pulls (Pull=never). See app/lib/catalog/local.ts.
     */
    archive: z
      .string()
      .regex(/^\/[A-Za-z0-9._/+-]+$/, "an absolute path (letters, digits, . _ / + -)")
      .refine((p) => !p.split("/").includes(".."), "no .. in the path")
      .optional(),
  }),
  z.strictObject({
    /** An upstream release tarball pinned by SHA-256 (see app/lib/catalog/releases.ts). */
    kind: z.literal("release"),
    release: z.enum(["ollama"]),
    source: Source,
  }),
]);

/**
 * An upstream release pinned per architecture by SHA-256. "placeholder" hashes are not the real
 * file's (nothing can be downloaded from here): provisioning refuses them, like placeholder digests.
 */
export const ReleaseSchema = z.strictObject({
  name: Id,
  version: z.string().regex(/^[0-9][0-9A-Za-z.+-]*$/),
  /** `{version}` and `{arch}` are replaced; https only. */
  urlPattern: z.string().regex(/^https:\/\/\S+\{version\}\S*\{arch\}\S*$/),
  files: z.record(
    ArchSchema,
    z.strictObject({
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      hashStatus: z.enum(["placeholder", "verified"]),
    }),
  ),
  source: Source,
});
export type Release = z.infer<typeof ReleaseSchema>;

export const PortSchema = z.strictObject({
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(["tcp", "udp"]),
  /** public: opened to the internet (router forward); lan: local network only; localhost: never leaves the box. */
  exposure: z.enum(["public", "lan", "localhost"]),
  purpose: z.string().min(1),
});

export const NeedsSchema = z.strictObject({
  /** Physical cores it wants to itself to run well. */
  cpuCores: z.number().positive(),
  /** Resident memory in steady state, including caches we configure (dbcache, ...). */
  ramBytes: Bytes,
  diskBytes: Bytes,
  diskGrowthBytesPerYear: Bytes,
  /** CPU features without which the mode makes no sense (RandomX without AES). */
  cpuFlags: z.array(z.string()).default([]),
  /** Heavy random writes: an SD card would wear out and be too slow. */
  wantsSsd: z.boolean(),
  /** Average CPU utilisation (0..1 of the whole CPU) once set up, for the energy estimate. */
  averageCpuLoad: z.number().min(0).max(1),
});

export const NodeModeSchema = z.strictObject({
  id: Id,
  summary: z.string().min(1),
  needs: NeedsSchema,
  /** The source of each requirement figure. */
  sources: z.strictObject({ cpu: Source, ram: Source, disk: Source }),
});

export const DependencySchema = z.strictObject({
  node: Id,
  /** The dependency's modes that will do (electrs needs an unpruned Bitcoin Core). */
  modes: z.array(Id).optional(),
  why: z.string().min(1),
});

export const NodeSchema = z.strictObject({
  id: Id,
  name: z.string().min(1),
  category: z.enum(["bitcoin", "monero", "social", "storage", "network", "ai"]),
  /** What it is, in one or two sentences for the owner. */
  summary: z.string().min(1),
  /** Heavy nodes are never "recommended" on small boxes; the wizard warns before adding them. */
  heavy: z.boolean(),
  install: z.array(InstallSchema).min(1),
  ports: z.array(PortSchema),
  architectures: z.array(ArchSchema).min(1),
  dependsOn: z.array(DependencySchema),
  modes: z.array(NodeModeSchema).min(1),
  dataDirs: z.array(z.string().regex(/^\/var\/lib\/[a-z0-9._/-]+$/)),
  /** What the owner must back up; everything else can be re-downloaded or rebuilt. */
  backup: z.array(z.strictObject({ path: z.string().startsWith("/"), why: z.string().min(1) })),
  /** Checks beyond "its units are active" (default: TCP on its first TCP port). */
  health: z.array(HealthCheckSchema).optional(),
  /** TCP ports it can also serve as a Tor onion service (none: it serves nothing worth it). */
  onion: z.array(PortNumber).optional(),
  /**
   * "local": added by the owner on this box (/etc/freehold/local-nodes.json), not reviewed by
   * Freehold. Absent for the built-in catalog.
   */
  origin: z.literal("local").optional(),
});

export const NodeCatalogSchema = z.array(NodeSchema).superRefine((nodes, ctx) => {
  const ids = new Set<string>();
  for (const [i, node] of nodes.entries()) {
    if (ids.has(node.id))
      ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate id ${node.id}` });
    ids.add(node.id);
  }
  for (const [i, node] of nodes.entries()) {
    const tcp = new Set(node.ports.filter((p) => p.protocol === "tcp").map((p) => p.port));
    const all = new Set(node.ports.map((p) => p.port));
    for (const port of node.onion ?? []) {
      if (!tcp.has(port))
        ctx.addIssue({
          code: "custom",
          path: [i, "onion"],
          message: `${port} is not a TCP port of ${node.id}`,
        });
    }
    for (const [j, install] of node.install.entries()) {
      if (install.kind !== "oci") continue;
      if (install.archive && node.origin !== "local")
        ctx.addIssue({
          code: "custom",
          path: [i, "install", j, "archive"],
          message: "only a local node loads an image archive",
        });
      for (const port of install.ports ?? []) {
        if (!all.has(port))
          ctx.addIssue({
            code: "custom",
            path: [i, "install", j],
            message: `${port} is not a port of ${node.id}`,
          });
      }
    }
    for (const [j, dep] of node.dependsOn.entries()) {
      const target = nodes.find((n) => n.id === dep.node);
      if (!target) {
        ctx.addIssue({ code: "custom", path: [i, "dependsOn", j], message: `unknown node ${dep.node}` });
      } else if (dep.modes?.some((m) => !target.modes.some((tm) => tm.id === m))) {
        ctx.addIssue({ code: "custom", path: [i, "dependsOn", j], message: `unknown mode of ${dep.node}` });
      }
    }
  }
});

/**
 * A node the owner adds on this box (/etc/freehold/local-nodes.json): the same fields as the
 * built-in catalog's, containers only, and each digest "verified": the owner vouches for it, as
 * nobody at Freehold has seen the image. Cross-checks (ids unique and not built-in, dependencies
 * known) run on the whole list: see app/lib/catalog/local.ts.
 */
export const LocalNodeSchema = NodeSchema.extend({ origin: z.literal("local") }).superRefine((node, ctx) => {
  for (const [j, install] of node.install.entries()) {
    if (install.kind !== "oci")
      ctx.addIssue({
        code: "custom",
        path: ["install", j, "kind"],
        message: 'a local node runs containers only (kind "oci")',
      });
    else if (install.digestStatus !== "verified")
      ctx.addIssue({
        code: "custom",
        path: ["install", j, "digestStatus"],
        message: 'must be "verified": you vouch for this digest (the sha256 of the image\'s manifest)',
      });
  }
});

/** /etc/freehold/local-nodes.json */
export const LocalNodesFileSchema = z.strictObject({ nodes: z.array(LocalNodeSchema) });
export type LocalNodesFile = z.input<typeof LocalNodesFileSchema>;

export const QuantSchema = z.enum(["Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0"]);

const ModelId = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "lower-case letters, digits, dots and dashes");

export const ModelSchema = z.strictObject({
  id: ModelId,
  name: z.string().min(1),
  /** The Ollama tag for the default quantization. */
  ollama: z.string().regex(/^[a-z0-9._-]+:[a-z0-9._-]+$/),
  parameters: z.number().positive(),
  /** Architecture numbers the KV-cache and compute-buffer formulas need. */
  arch: z.strictObject({
    layers: z.number().int().positive(),
    kvHeads: z.number().int().positive(),
    headDim: z.number().int().positive(),
    embedding: z.number().int().positive(),
    feedForward: z.number().int().positive(),
    vocab: z.number().int().positive(),
    trainedContext: z.number().int().positive(),
    /** Input and output embeddings share one table (it is read for every token). */
    tiedEmbeddings: z.boolean(),
    /** Sliding-window attention: `windowedLayers` of the layers keep only `window` tokens. */
    slidingWindow: z
      .strictObject({ window: z.number().int().positive(), windowedLayers: z.number().int() })
      .nullable(),
  }),
  /** GGUF file size of each offered quantization. */
  quants: z.array(
    z.strictObject({
      quant: QuantSchema,
      bytes: Bytes.positive(),
      /** "ollama" for a published tag's size, "derived" when computed from another quant's size and bits per weight. */
      sizeFrom: z.enum(["ollama", "derived"]),
    }),
  ),
  source: Source,
});

export const ModelCatalogSchema = z.array(ModelSchema).superRefine((models, ctx) => {
  const ids = new Set<string>();
  for (const [i, model] of models.entries()) {
    if (ids.has(model.id))
      ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate id ${model.id}` });
    ids.add(model.id);
    for (const q of ["Q4_K_M", "Q5_K_M", "Q8_0"] as const) {
      if (!model.quants.some((x) => x.quant === q)) {
        ctx.addIssue({ code: "custom", path: [i, "quants"], message: `missing ${q}` });
      }
    }
  }
});

export type Install = z.infer<typeof InstallSchema>;
export type NodeMode = z.infer<typeof NodeModeSchema>;
export type CatalogNode = z.infer<typeof NodeSchema>;
export type CatalogNodeInput = z.input<typeof NodeSchema>;
export type Quant = z.infer<typeof QuantSchema>;
export type CatalogModel = z.infer<typeof ModelSchema>;
