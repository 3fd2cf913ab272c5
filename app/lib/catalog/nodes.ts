import { createHash } from "node:crypto";
import { type CatalogNode, type CatalogNodeInput, NodeCatalogSchema } from "../../_schemas/catalog";

/**
 * The node catalog. Requirement figures are for a home box serving its owner and a few friends;
 * each mode names where its CPU, RAM and disk figures come from (late-2025 chain sizes).
 */

const GB = 1e9;

/**
 * OCI images are pinned by digest. These digests are PLACEHOLDERS (sha256 of "image:tag"), not
 * the registry's: no registry is reachable from here. The nodes issue pulls each image, records
 * its real manifest-list digest and flips digestStatus to "verified"; provisioning refuses
 * placeholders.
 */
/** How the container runs: see InstallSchema (mount point, ports, read-only root, HealthCmd). */
interface Runtime {
  name?: string;
  mount?: string;
  ports?: number[];
  writableRoot?: boolean;
  onDemand?: boolean;
  healthCmd?: string;
}

function oci(image: string, tag: string, source: string, runtime: Runtime = {}) {
  const digest = `sha256:${createHash("sha256").update(`${image}:${tag}`).digest("hex")}`;
  return {
    kind: "oci" as const,
    image,
    tag,
    digest,
    digestStatus: "placeholder" as const,
    source,
    ...runtime,
  };
}

function debian(pkg: string, unit?: string, withPackages?: string[]) {
  return {
    kind: "debian" as const,
    package: pkg,
    suite: "trixie" as const,
    source: `https://packages.debian.org/trixie/${pkg}`,
    ...(unit ? { unit } : {}),
    ...(withPackages ? { with: withPackages } : {}),
  };
}

const BOTH = ["amd64", "arm64"] as ("amd64" | "arm64")[];
const CADDY_DEP = { node: "caddy", why: "terminates TLS for its public HTTPS endpoint" };

const nodes: CatalogNodeInput[] = [
  {
    id: "bitcoin-core",
    name: "Bitcoin Core",
    category: "bitcoin",
    summary:
      "A Bitcoin full node: downloads and checks every block itself, so your wallet trusts no one else's server.",
    heavy: false,
    install: [
      oci("docker.io/btcpayserver/bitcoin", "29.0", "https://hub.docker.com/r/btcpayserver/bitcoin", {
        mount: "/data",
      }),
    ],
    health: [{ kind: "tcp", port: 8332 }],
    onion: [8333],
    ports: [
      { port: 8333, protocol: "tcp", exposure: "public", purpose: "peer-to-peer (optional inbound)" },
      { port: 8332, protocol: "tcp", exposure: "localhost", purpose: "JSON-RPC for Lightning and electrs" },
    ],
    architectures: BOTH,
    dependsOn: [],
    modes: [
      {
        id: "full",
        summary: "keeps the whole chain: can serve electrs and other peers",
        needs: {
          cpuCores: 2,
          ramBytes: 1.5 * GB,
          diskBytes: 800 * GB,
          diskGrowthBytesPerYear: 90 * GB,
          wantsSsd: true,
          averageCpuLoad: 0.03,
        },
        sources: {
          cpu: "https://bitcoin.org/en/bitcoin-core/features/requirements — 2 cores; initial sync is CPU-bound for days",
          ram: "https://github.com/bitcoin/bitcoin/blob/master/doc/reduce-memory.md — dbcache 450 MiB default + mempool 300 MB + overhead",
          disk: "https://github.com/bitcoin/bitcoin/blob/master/doc/files.md — blocks ~700 GB + chainstate ~12 GB late 2025, ~90 GB a year",
        },
      },
      {
        id: "pruned",
        summary: "keeps the chainstate and the last ~5 GB of blocks: validates everything, serves no history",
        needs: {
          cpuCores: 2,
          ramBytes: 1 * GB,
          diskBytes: 20 * GB,
          diskGrowthBytesPerYear: 1 * GB,
          wantsSsd: true,
          averageCpuLoad: 0.03,
        },
        sources: {
          cpu: "https://bitcoin.org/en/bitcoin-core/features/requirements — 2 cores",
          ram: "https://github.com/bitcoin/bitcoin/blob/master/doc/reduce-memory.md — dbcache 300 MiB, smaller mempool",
          disk: "https://github.com/bitcoin/bitcoin/blob/master/doc/files.md — chainstate ~12 GB + prune=5000",
        },
      },
    ],
    dataDirs: ["/var/lib/bitcoind"],
    backup: [
      { path: "/var/lib/bitcoind/bitcoin.conf", why: "settings; the chain itself re-downloads" },
      { path: "/var/lib/bitcoind/wallets", why: "wallets, if you keep one in Bitcoin Core" },
    ],
  },
  {
    id: "lnd",
    name: "Lightning (LND)",
    category: "bitcoin",
    summary: "A Lightning Network node for fast, cheap Bitcoin payments through payment channels.",
    heavy: false,
    install: [
      oci("docker.io/lightninglabs/lnd", "v0.19.3-beta", "https://hub.docker.com/r/lightninglabs/lnd", {
        mount: "/root/.lnd",
        healthCmd: "lncli --network=mainnet state",
      }),
    ],
    health: [{ kind: "tcp", port: 10009 }],
    onion: [9735, 10009],
    ports: [
      { port: 9735, protocol: "tcp", exposure: "public", purpose: "Lightning peers (or via Tor only)" },
      { port: 10009, protocol: "tcp", exposure: "lan", purpose: "gRPC for wallet apps" },
    ],
    architectures: BOTH,
    dependsOn: [{ node: "bitcoin-core", why: "watches the chain through Bitcoin Core's RPC and ZMQ" }],
    modes: [
      {
        id: "default",
        summary: "a routing-capable node with a few channels",
        needs: {
          cpuCores: 1,
          ramBytes: 0.5 * GB,
          diskBytes: 5 * GB,
          diskGrowthBytesPerYear: 2 * GB,
          wantsSsd: true,
          averageCpuLoad: 0.02,
        },
        sources: {
          cpu: "https://docs.lightning.engineering/lightning-network-tools/lnd/run-lnd — light once synced",
          ram: "https://docs.lightning.engineering/lightning-network-tools/lnd/run-lnd — a few hundred MB with the channel graph",
          disk: "https://docs.lightning.engineering/lightning-network-tools/lnd/optimal-configuration-of-a-routing-node — channel.db grows; compact it",
        },
      },
    ],
    dataDirs: ["/var/lib/lnd"],
    backup: [
      {
        path: "/var/lib/lnd/data/chain/bitcoin/mainnet/channel.backup",
        why: "static channel backup: recovers funds in channels",
      },
      {
        path: "/var/lib/lnd/seed (written down, not on disk)",
        why: "the aezeed seed recovers on-chain funds",
      },
    ],
  },
  {
    id: "electrs",
    name: "Electrum server (electrs)",
    category: "bitcoin",
    summary:
      "Indexes your Bitcoin Core's chain so wallets (Sparrow, Electrum, BlueWallet) query your node privately.",
    heavy: false,
    install: [
      oci(
        "docker.io/getumbrel/electrs",
        "v0.10.10",
        "https://github.com/romanz/electrs/blob/master/doc/install.md",
        { mount: "/data" },
      ),
    ],
    health: [{ kind: "tcp", port: 50001 }],
    onion: [50001],
    ports: [{ port: 50001, protocol: "tcp", exposure: "lan", purpose: "Electrum protocol for wallets" }],
    architectures: BOTH,
    dependsOn: [
      { node: "bitcoin-core", modes: ["full"], why: "builds its index from the full, unpruned block files" },
    ],
    modes: [
      {
        id: "default",
        summary: "a personal index (no history pruning)",
        needs: {
          cpuCores: 2,
          ramBytes: 1 * GB,
          diskBytes: 60 * GB,
          diskGrowthBytesPerYear: 8 * GB,
          wantsSsd: true,
          averageCpuLoad: 0.02,
        },
        sources: {
          cpu: "https://github.com/romanz/electrs/blob/master/doc/install.md — initial indexing takes hours on 2+ cores",
          ram: "https://github.com/romanz/electrs/blob/master/doc/config.md — db cache and RocksDB, ~1 GB",
          disk: "https://github.com/romanz/electrs/blob/master/doc/install.md — index roughly 8–10% of the block files",
        },
      },
    ],
    dataDirs: ["/var/lib/electrs"],
    backup: [{ path: "/var/lib/electrs/config.toml", why: "settings; the index rebuilds" }],
  },
  {
    id: "monerod",
    name: "Monero node (monerod)",
    category: "monero",
    summary: "A Monero full node: verifies the Monero chain for your own wallet and for P2Pool mining.",
    heavy: false,
    install: [debian("monero", "monerod.service")],
    health: [{ kind: "tcp", port: 18089 }],
    onion: [18089],
    ports: [
      { port: 18080, protocol: "tcp", exposure: "public", purpose: "peer-to-peer" },
      { port: 18089, protocol: "tcp", exposure: "lan", purpose: "restricted RPC for wallets" },
      { port: 18083, protocol: "tcp", exposure: "localhost", purpose: "ZMQ for P2Pool" },
    ],
    architectures: BOTH,
    dependsOn: [],
    modes: [
      {
        id: "full",
        summary: "the whole chain",
        needs: {
          cpuCores: 2,
          ramBytes: 2 * GB,
          diskBytes: 250 * GB,
          diskGrowthBytesPerYear: 25 * GB,
          wantsSsd: true,
          averageCpuLoad: 0.05,
        },
        sources: {
          cpu: "https://docs.getmonero.org/running-node/monerod-systemd/ — 2 cores",
          ram: "https://docs.getmonero.org/running-node/monerod-systemd/ — 2 GB recommended",
          disk: "https://www.getmonero.org/resources/moneropedia/pruning.html — full chain ~230 GB late 2025",
        },
      },
      {
        id: "pruned",
        summary: "prunes 7/8 of the transaction data: still a full verifier",
        needs: {
          cpuCores: 2,
          ramBytes: 1.5 * GB,
          diskBytes: 110 * GB,
          diskGrowthBytesPerYear: 10 * GB,
          wantsSsd: true,
          averageCpuLoad: 0.05,
        },
        sources: {
          cpu: "https://docs.getmonero.org/running-node/monerod-systemd/ — 2 cores",
          ram: "https://docs.getmonero.org/running-node/monerod-systemd/ — 1–2 GB",
          disk: "https://www.getmonero.org/resources/moneropedia/pruning.html — about a third of the full chain",
        },
      },
    ],
    dataDirs: ["/var/lib/monero"],
    backup: [{ path: "/etc/monerod.conf", why: "settings; the chain re-downloads" }],
  },
  {
    id: "p2pool-xmrig",
    name: "P2Pool + XMRig (CPU mining)",
    category: "monero",
    summary:
      "Mines Monero with the CPU (RandomX) through the decentralised P2Pool; every watt it draws comes out as heat.",
    heavy: false,
    install: [
      oci("ghcr.io/sethforprivacy/p2pool", "v4.9", "https://github.com/SChernykh/p2pool#readme", {
        name: "p2pool",
        mount: "/home/p2pool/.p2pool",
        ports: [37888],
      }),
      oci("ghcr.io/sethforprivacy/xmrig", "v6.24.0", "https://xmrig.com/docs/miner", {
        name: "xmrig",
        mount: "/home/xmrig",
        ports: [],
        onDemand: true,
      }),
    ],
    ports: [{ port: 37888, protocol: "tcp", exposure: "public", purpose: "P2Pool mini sidechain peers" }],
    architectures: BOTH,
    dependsOn: [{ node: "monerod", why: "P2Pool needs a synced monerod with ZMQ" }],
    modes: [
      {
        id: "fast",
        summary: "RandomX fast mode on every core",
        needs: {
          cpuCores: 2,
          ramBytes: 2.6 * GB,
          diskBytes: 2 * GB,
          diskGrowthBytesPerYear: 0,
          cpuFlags: ["aes"],
          wantsSsd: false,
          averageCpuLoad: 1,
        },
        sources: {
          cpu: "https://xmrig.com/docs/miner/randomx-optimization-guide — needs hardware AES; all cores at full load",
          ram: "https://xmrig.com/docs/miner/randomx-optimization-guide — 2080 MB dataset + 256 MB cache, P2Pool ~300 MB",
          disk: "https://github.com/SChernykh/p2pool#readme — sidechain data, a few hundred MB",
        },
      },
    ],
    dataDirs: ["/var/lib/p2pool"],
    backup: [{ path: "/var/lib/p2pool/wallet-address", why: "the payout address (an address, not a key)" }],
  },
  {
    id: "nostr-relay",
    name: "Nostr relay (nostr-rs-relay)",
    category: "social",
    summary: "Your own Nostr relay: keeps your notes and those of people you allow, served over WebSocket.",
    heavy: false,
    install: [
      oci("docker.io/scsibug/nostr-rs-relay", "0.9.0", "https://github.com/scsibug/nostr-rs-relay", {
        mount: "/usr/src/app/db",
      }),
    ],
    health: [{ kind: "http", port: 8080, path: "/", expectStatus: 200 }],
    onion: [8080],
    ports: [
      {
        port: 8080,
        protocol: "tcp",
        exposure: "localhost",
        purpose: "WebSocket, published through Caddy on 443",
      },
    ],
    architectures: BOTH,
    dependsOn: [CADDY_DEP],
    modes: [
      {
        id: "default",
        summary: "a personal or small-community relay (SQLite)",
        needs: {
          cpuCores: 0.5,
          ramBytes: 0.1 * GB,
          diskBytes: 10 * GB,
          diskGrowthBytesPerYear: 5 * GB,
          wantsSsd: false,
          averageCpuLoad: 0.01,
        },
        sources: {
          cpu: "https://github.com/scsibug/nostr-rs-relay#readme — Rust, light",
          ram: "https://github.com/scsibug/nostr-rs-relay#readme — tens of MB for a small relay",
          disk: "https://github.com/scsibug/nostr-rs-relay/blob/master/docs/database-maintenance.md — grows with stored events",
        },
      },
    ],
    dataDirs: ["/var/lib/nostr-rs-relay"],
    backup: [{ path: "/var/lib/nostr-rs-relay/nostr.db", why: "the stored events" }],
  },
  {
    id: "continuwuity",
    name: "Matrix homeserver (continuwuity)",
    category: "social",
    summary:
      "A light Matrix homeserver in Rust (a conduwuit fork): chat and federation for you and your family.",
    heavy: false,
    install: [
      oci(
        "forgejo.ellis.link/continuwuation/continuwuity",
        "v0.5.0",
        "https://continuwuity.org/deploying/docker.html",
        { mount: "/var/lib/continuwuity" },
      ),
    ],
    health: [{ kind: "http", port: 8008, path: "/_matrix/client/versions", expectStatus: 200 }],
    ports: [
      {
        port: 8008,
        protocol: "tcp",
        exposure: "localhost",
        purpose: "client and federation API behind Caddy (443, 8448)",
      },
    ],
    architectures: BOTH,
    dependsOn: [CADDY_DEP],
    modes: [
      {
        id: "default",
        summary: "a few users, joined to a few federated rooms (RocksDB)",
        needs: {
          cpuCores: 1,
          ramBytes: 0.5 * GB,
          diskBytes: 10 * GB,
          diskGrowthBytesPerYear: 5 * GB,
          wantsSsd: true,
          averageCpuLoad: 0.03,
        },
        sources: {
          cpu: "https://continuwuity.org/deploying/generic.html — runs on small boards",
          ram: "https://continuwuity.org/configuration.html — db_cache_capacity_mb; large rooms need more",
          disk: "https://continuwuity.org/deploying/generic.html — grows with rooms and media",
        },
      },
    ],
    dataDirs: ["/var/lib/continuwuity"],
    backup: [
      { path: "/var/lib/continuwuity", why: "the database holds the server's signing key and all messages" },
    ],
  },
  {
    id: "synapse",
    name: "Matrix homeserver (Synapse)",
    category: "social",
    summary:
      "The reference Matrix homeserver (Python, PostgreSQL): most compatible, heavier than continuwuity.",
    heavy: false,
    install: [
      oci(
        "docker.io/matrixdotorg/synapse",
        "v1.138.0",
        "https://element-hq.github.io/synapse/latest/setup/installation.html",
        { mount: "/data", healthCmd: "curl -fsS http://localhost:8008/health" },
      ),
      debian("postgresql"),
    ],
    ports: [
      {
        port: 8008,
        protocol: "tcp",
        exposure: "localhost",
        purpose: "client and federation API behind Caddy (443, 8448)",
      },
    ],
    architectures: BOTH,
    dependsOn: [CADDY_DEP],
    modes: [
      {
        id: "default",
        summary: "a few users with PostgreSQL",
        needs: {
          cpuCores: 2,
          ramBytes: 1.5 * GB,
          diskBytes: 20 * GB,
          diskGrowthBytesPerYear: 10 * GB,
          wantsSsd: true,
          averageCpuLoad: 0.05,
        },
        sources: {
          cpu: "https://element-hq.github.io/synapse/latest/setup/installation.html — 2 cores for federation",
          ram: "https://element-hq.github.io/synapse/latest/usage/administration/admin_faq.html — 1 GB+ Synapse, PostgreSQL ~300 MB",
          disk: "https://element-hq.github.io/synapse/latest/postgres.html — state of joined rooms and media",
        },
      },
    ],
    dataDirs: ["/var/lib/synapse", "/var/lib/postgresql"],
    backup: [
      { path: "/var/lib/synapse/homeserver.signing.key", why: "the server's identity in federation" },
      { path: "/var/lib/postgresql (pg_dump)", why: "accounts, rooms and messages" },
      { path: "/var/lib/synapse/media_store", why: "uploaded media" },
    ],
  },
  {
    id: "kubo",
    name: "IPFS (kubo)",
    category: "storage",
    summary: "An IPFS node: pins and serves content-addressed files to the IPFS network.",
    heavy: false,
    install: [
      oci("docker.io/ipfs/kubo", "v0.37.0", "https://docs.ipfs.tech/install/run-ipfs-inside-docker/", {
        mount: "/data/ipfs",
        healthCmd: "ipfs --api=/ip4/127.0.0.1/tcp/5001 id",
      }),
    ],
    ports: [
      { port: 4001, protocol: "tcp", exposure: "public", purpose: "swarm (libp2p)" },
      { port: 4001, protocol: "udp", exposure: "public", purpose: "swarm (QUIC)" },
      { port: 8080, protocol: "tcp", exposure: "lan", purpose: "HTTP gateway" },
      { port: 5001, protocol: "tcp", exposure: "localhost", purpose: "RPC API: admin access, never exposed" },
    ],
    architectures: BOTH,
    dependsOn: [],
    modes: [
      {
        id: "default",
        summary: "the default server profile",
        needs: {
          cpuCores: 2,
          ramBytes: 2 * GB,
          diskBytes: 50 * GB,
          diskGrowthBytesPerYear: 20 * GB,
          wantsSsd: false,
          averageCpuLoad: 0.08,
        },
        sources: {
          cpu: "https://github.com/ipfs/kubo#system-requirements — 2 cores",
          ram: "https://github.com/ipfs/kubo#system-requirements — at least 2 GB (6 GB with swap for heavy use)",
          disk: "https://docs.ipfs.tech/how-to/configure-node/ — Datastore.StorageMax defaults to 10 GB; size it for what you pin",
        },
      },
      {
        id: "lowpower",
        summary: "the lowpower profile: fewer connections, for small boards",
        needs: {
          cpuCores: 1,
          ramBytes: 0.5 * GB,
          diskBytes: 20 * GB,
          diskGrowthBytesPerYear: 10 * GB,
          wantsSsd: false,
          averageCpuLoad: 0.03,
        },
        sources: {
          cpu: "https://github.com/ipfs/kubo/blob/master/docs/config.md#lowpower-profile — fewer peers",
          ram: "https://github.com/ipfs/kubo/blob/master/docs/config.md#lowpower-profile — ConnMgr low water 20",
          disk: "https://docs.ipfs.tech/how-to/configure-node/ — sized for what you pin",
        },
      },
    ],
    dataDirs: ["/var/lib/ipfs"],
    backup: [
      { path: "/var/lib/ipfs/config", why: "holds the node's identity key" },
      { path: "/var/lib/ipfs/keystore", why: "IPNS keys" },
    ],
  },
  {
    id: "gotosocial",
    name: "Fediverse server (GoToSocial)",
    category: "social",
    summary: "A light ActivityPub server (Mastodon-compatible apps) for a handful of accounts.",
    heavy: false,
    install: [
      oci(
        "docker.io/superseriousbusiness/gotosocial",
        "0.19.2",
        "https://docs.gotosocial.org/en/latest/getting_started/installation/",
        { mount: "/gotosocial/storage" },
      ),
    ],
    health: [{ kind: "http", port: 8080, path: "/readyz", expectStatus: 200 }],
    ports: [{ port: 8080, protocol: "tcp", exposure: "localhost", purpose: "HTTP behind Caddy (443)" }],
    architectures: BOTH,
    dependsOn: [CADDY_DEP],
    modes: [
      {
        id: "default",
        summary: "a few accounts (SQLite)",
        needs: {
          cpuCores: 1,
          ramBytes: 0.3 * GB,
          diskBytes: 10 * GB,
          diskGrowthBytesPerYear: 10 * GB,
          wantsSsd: false,
          averageCpuLoad: 0.02,
        },
        sources: {
          cpu: "https://docs.gotosocial.org/en/latest/getting_started/ — a single-board computer is enough",
          ram: "https://docs.gotosocial.org/en/latest/getting_started/ — runs in about 250–400 MB; 1 GB hosts recommended",
          disk: "https://docs.gotosocial.org/en/latest/admin/media_caching/ — remote media cache, pruned after 7 days",
        },
      },
    ],
    dataDirs: ["/var/lib/gotosocial"],
    backup: [
      { path: "/var/lib/gotosocial/sqlite.db", why: "accounts, posts and the instance's keys" },
      { path: "/var/lib/gotosocial/storage", why: "local media" },
    ],
  },
  {
    id: "mastodon",
    name: "Mastodon",
    category: "social",
    summary:
      "The best-known Fediverse server (Rails, Sidekiq, PostgreSQL, Redis). Heavy: prefer GoToSocial on small boxes.",
    heavy: true,
    install: [
      oci("ghcr.io/mastodon/mastodon", "v4.4.4", "https://docs.joinmastodon.org/admin/install/", {
        mount: "/mastodon/public/system",
        writableRoot: true,
      }),
      debian("postgresql"),
      debian("redis-server"),
    ],
    ports: [
      { port: 3000, protocol: "tcp", exposure: "localhost", purpose: "web and streaming behind Caddy (443)" },
    ],
    architectures: BOTH,
    dependsOn: [CADDY_DEP],
    modes: [
      {
        id: "default",
        summary: "a small instance without Elasticsearch",
        needs: {
          cpuCores: 2,
          ramBytes: 4 * GB,
          diskBytes: 60 * GB,
          diskGrowthBytesPerYear: 40 * GB,
          wantsSsd: true,
          averageCpuLoad: 0.1,
        },
        sources: {
          cpu: "https://docs.joinmastodon.org/user/run-your-own/ — 2 cores for a small instance",
          ram: "https://docs.joinmastodon.org/user/run-your-own/ — web, Sidekiq, PostgreSQL and Redis: 4 GB",
          disk: "https://docs.joinmastodon.org/admin/setup/ — remote media cache dominates; tootctl media remove",
        },
      },
    ],
    dataDirs: ["/var/lib/mastodon", "/var/lib/postgresql", "/var/lib/redis"],
    backup: [
      { path: "/var/lib/postgresql (pg_dump)", why: "accounts and posts" },
      { path: "/var/lib/mastodon/.env.production", why: "secrets and VAPID keys" },
      { path: "/var/lib/mastodon/public/system", why: "local media" },
    ],
  },
  {
    id: "caddy",
    name: "Web server (Caddy)",
    category: "network",
    summary: "Serves your websites and puts HTTPS with automatic certificates in front of the other nodes.",
    heavy: false,
    install: [debian("caddy")],
    ports: [
      { port: 80, protocol: "tcp", exposure: "public", purpose: "HTTP and ACME challenges" },
      { port: 443, protocol: "tcp", exposure: "public", purpose: "HTTPS" },
    ],
    architectures: BOTH,
    dependsOn: [],
    modes: [
      {
        id: "default",
        summary: "static sites and reverse proxy",
        needs: {
          cpuCores: 0.25,
          ramBytes: 0.05 * GB,
          diskBytes: 1 * GB,
          diskGrowthBytesPerYear: 0,
          wantsSsd: false,
          averageCpuLoad: 0.005,
        },
        sources: {
          cpu: "https://caddyserver.com/docs/install#debian-ubuntu-raspbian — negligible at home traffic",
          ram: "https://caddyserver.com/docs/install#debian-ubuntu-raspbian — a Go binary, tens of MB",
          disk: "https://caddyserver.com/docs/conventions#data-directory — certificates and logs",
        },
      },
    ],
    dataDirs: ["/var/lib/caddy"],
    backup: [
      { path: "/etc/caddy/Caddyfile", why: "the site configuration" },
      { path: "/var/lib/caddy/.local/share/caddy", why: "ACME account key and certificates (re-issuable)" },
    ],
  },
  {
    id: "unbound",
    name: "DNS resolver (Unbound)",
    category: "network",
    summary: "A validating, recursive DNS resolver: asks the root servers itself instead of your ISP.",
    heavy: false,
    // dns-root-data (only Recommended) holds the root trust anchor: without it unbound exits with
    // "unable to open /var/lib/unbound/root.key".
    install: [debian("unbound", undefined, ["dns-root-data"])],
    ports: [{ port: 53, protocol: "udp", exposure: "lan", purpose: "DNS for the home network" }],
    architectures: BOTH,
    dependsOn: [],
    modes: [
      {
        id: "default",
        summary: "recursive with DNSSEC validation",
        needs: {
          cpuCores: 0.25,
          ramBytes: 0.05 * GB,
          diskBytes: 0.1 * GB,
          diskGrowthBytesPerYear: 0,
          wantsSsd: false,
          averageCpuLoad: 0.005,
        },
        sources: {
          cpu: "https://unbound.docs.nlnetlabs.nl/en/latest/topics/core/performance.html — negligible for a household",
          ram: "https://unbound.docs.nlnetlabs.nl/en/latest/topics/core/performance.html — default caches ~10 MB",
          disk: "https://unbound.docs.nlnetlabs.nl/en/latest/getting-started/installation.html — configuration and root hints",
        },
      },
    ],
    dataDirs: ["/var/lib/unbound"],
    backup: [{ path: "/etc/unbound/unbound.conf.d", why: "local zones and settings" }],
  },
  {
    id: "adguard-home",
    name: "Ad-blocking DNS (AdGuard Home)",
    category: "network",
    summary:
      "Blocks ads and trackers for every device on the network at the DNS level, forwarding to Unbound.",
    heavy: false,
    install: [
      oci(
        "docker.io/adguard/adguardhome",
        "v0.107.65",
        "https://github.com/AdguardTeam/AdGuardHome/wiki/Docker",
        { mount: "/opt/adguardhome/work" },
      ),
    ],
    health: [{ kind: "tcp", port: 3000 }],
    ports: [
      { port: 53, protocol: "udp", exposure: "lan", purpose: "DNS for the home network" },
      { port: 3000, protocol: "tcp", exposure: "lan", purpose: "admin web interface" },
    ],
    architectures: BOTH,
    dependsOn: [{ node: "unbound", why: "uses Unbound (moved to port 5335) as its private upstream" }],
    modes: [
      {
        id: "default",
        summary: "default block lists",
        needs: {
          cpuCores: 0.25,
          ramBytes: 0.15 * GB,
          diskBytes: 0.5 * GB,
          diskGrowthBytesPerYear: 0.5 * GB,
          wantsSsd: false,
          averageCpuLoad: 0.005,
        },
        sources: {
          cpu: "https://github.com/AdguardTeam/AdGuardHome#comparison — runs on a Pi Zero",
          ram: "https://github.com/AdguardTeam/AdGuardHome/wiki/Getting-Started — ~50–150 MB with filter lists",
          disk: "https://github.com/AdguardTeam/AdGuardHome/wiki/Configuration — query log and statistics",
        },
      },
    ],
    dataDirs: ["/var/lib/adguardhome"],
    backup: [{ path: "/var/lib/adguardhome/conf/AdGuardHome.yaml", why: "settings, clients and lists" }],
  },
  {
    id: "tor",
    name: "Tor onion services",
    category: "network",
    summary: "Reaches your nodes from anywhere through .onion addresses, without opening router ports.",
    heavy: false,
    install: [debian("tor", "tor@default.service")],
    ports: [{ port: 9050, protocol: "tcp", exposure: "localhost", purpose: "SOCKS proxy for the nodes" }],
    architectures: BOTH,
    dependsOn: [],
    modes: [
      {
        id: "default",
        summary: "a client with onion services (no relay)",
        needs: {
          cpuCores: 0.5,
          ramBytes: 0.15 * GB,
          diskBytes: 0.2 * GB,
          diskGrowthBytesPerYear: 0,
          wantsSsd: false,
          averageCpuLoad: 0.02,
        },
        sources: {
          cpu: "https://community.torproject.org/onion-services/setup/ — light without a relay",
          ram: "https://community.torproject.org/relay/relays-requirements/ — a client needs far less than a relay's 512 MB",
          disk: "https://community.torproject.org/onion-services/setup/ — keys and consensus cache",
        },
      },
    ],
    dataDirs: ["/var/lib/tor"],
    backup: [
      {
        path: "/var/lib/tor/onion-services",
        why: "onion service keys: lose them and the .onion addresses change",
      },
    ],
  },
  {
    id: "ollama",
    name: "Ollama + Open WebUI",
    category: "ai",
    summary: "Runs the local language models below, with a chat interface in the browser.",
    heavy: false,
    install: [
      {
        kind: "release",
        release: "ollama",
        source: "https://github.com/ollama/ollama/blob/main/docs/linux.md",
      },
      oci(
        "ghcr.io/open-webui/open-webui",
        "v0.6.34",
        "https://docs.openwebui.com/getting-started/quick-start/",
        { name: "open-webui", mount: "/app/backend/data", ports: [8081], writableRoot: true },
      ),
    ],
    health: [
      { kind: "http", port: 11434, path: "/api/version", expectStatus: 200 },
      { kind: "tcp", port: 8081 },
    ],
    ports: [
      { port: 11434, protocol: "tcp", exposure: "localhost", purpose: "Ollama API" },
      { port: 8081, protocol: "tcp", exposure: "lan", purpose: "Open WebUI chat (or behind Caddy)" },
    ],
    architectures: BOTH,
    dependsOn: [],
    modes: [
      {
        id: "default",
        summary: "the runtime and the chat UI; each model's memory is counted separately",
        needs: {
          cpuCores: 1,
          ramBytes: 0.8 * GB,
          diskBytes: 5 * GB,
          diskGrowthBytesPerYear: 0,
          wantsSsd: false,
          averageCpuLoad: 0.01,
        },
        sources: {
          cpu: "https://github.com/ollama/ollama/blob/main/docs/faq.md — idle until asked",
          ram: "https://docs.openwebui.com/getting-started/ — Open WebUI (Python) ~600 MB, Ollama server ~100 MB",
          disk: "https://docs.openwebui.com/getting-started/ — images ~4 GB; models are counted on their own",
        },
      },
    ],
    dataDirs: ["/var/lib/ollama", "/var/lib/open-webui"],
    backup: [{ path: "/var/lib/open-webui", why: "chat accounts and history; models re-download" }],
  },
];

export const NODES: readonly CatalogNode[] = NodeCatalogSchema.parse(nodes);

export function nodeById(id: string): CatalogNode | undefined {
  return NODES.find((n) => n.id === id);
}
