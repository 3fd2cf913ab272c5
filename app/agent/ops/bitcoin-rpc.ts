import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { CatalogNode } from "../../_schemas/catalog";
import { type Host, OpError } from "../host";
import { ensureFile } from "./common";
import { envFilePath, NETWORK_SUBNET, SECRETS_DIR } from "./node-units";

/**
 * Bitcoin Core's RPC credentials. bitcoind gets only an `rpcauth=` line (user, salt and
 * HMAC-SHA256 of the password keyed by the salt, exactly as Bitcoin Core's
 * share/rpcauth/rpcauth.py computes it); the password itself is kept root-only on the encrypted
 * data volume and handed to the nodes that depend on Bitcoin Core (LND, Core Lightning, electrs)
 * through their own env files (0600). It never appears in argv, progress or details.
 */

export const BITCOIN_NODE = "bitcoin-core";
export const RPC_USER = "freehold";
export const RPC_PORT = 8332;
export const PASSWORD_FILE = `${SECRETS_DIR}/bitcoin-rpc.password`;
export const BITCOIN_CONF = "/srv/freehold/bitcoin-core/bitcoin.conf";

/** rpcauth.py: salt = token_hex(16); hmac(key=salt, msg=password, sha256).hexdigest(). */
export function rpcauthLine(user: string, password: string, salt: string): string {
  const hash = createHmac("sha256", salt).update(password, "utf8").digest("hex");
  return `rpcauth=${user}:${salt}$${hash}`;
}

/** The password matches this rpcauth line (its salt, its user). */
export function rpcauthMatches(line: string, user: string, password: string): boolean {
  const m = /^rpcauth=([^:]+):([0-9a-f]+)\$([0-9a-f]{64})$/.exec(line.trim());
  if (!m || m[1] !== user || !m[2] || !m[3]) return false;
  const want = Buffer.from(rpcauthLine(user, password, m[2]).split("$")[1] ?? "", "hex");
  return timingSafeEqual(want, Buffer.from(m[3], "hex"));
}

/** token_urlsafe(32), as rpcauth.py generates passwords. */
export const generatePassword = () => randomBytes(32).toString("base64url");
export const generateSalt = () => randomBytes(16).toString("hex");

export function renderBitcoinConf(rpcauth: string, mode: string | undefined): string {
  return [
    "# Written by freehold-agent (node.install bitcoin-core); edits are overwritten.",
    "server=1",
    rpcauth,
    // The container listens on its own network namespace; only the nodes' network may call RPC.
    "rpcbind=0.0.0.0",
    "rpcallowip=127.0.0.1",
    `rpcallowip=${NETWORK_SUBNET}`,
    ...(mode === "pruned" ? ["prune=5000"] : []),
    "",
  ].join("\n");
}

export function renderDependentEnv(password: string): string {
  return [
    `BITCOIN_RPC_HOST=freehold-${BITCOIN_NODE}`,
    `BITCOIN_RPC_PORT=${RPC_PORT}`,
    `BITCOIN_RPC_USER=${RPC_USER}`,
    `BITCOIN_RPC_PASSWORD=${password}`,
    "",
  ].join("\n");
}

export const dependsOnBitcoin = (node: CatalogNode) => node.dependsOn.some((d) => d.node === BITCOIN_NODE);

async function ensureSecretsDir(host: Host): Promise<void> {
  await host.run(["install", "-d", "-m", "0700", "--", SECRETS_DIR]);
}

/** Bitcoin Core's side: a password (kept if there is one) and the rpcauth line in bitcoin.conf. */
export async function ensureBitcoinRpc(host: Host, mode: string | undefined): Promise<boolean> {
  await ensureSecretsDir(host);
  let changed = false;
  let password = (await host.readFile(PASSWORD_FILE))?.trim() ?? "";
  if (password.length < 32) {
    password = generatePassword();
    await host.writeFile(PASSWORD_FILE, `${password}\n`, 0o600);
    changed = true;
  }
  const current = (await host.readFile(BITCOIN_CONF)) ?? "";
  const existing = current.split("\n").find((l) => l.startsWith("rpcauth="));
  const line =
    existing && rpcauthMatches(existing, RPC_USER, password)
      ? existing
      : rpcauthLine(RPC_USER, password, generateSalt());
  return (await ensureFile(host, BITCOIN_CONF, renderBitcoinConf(line, mode), 0o600)) || changed;
}

/** A dependent's side: its env file with the password, from Bitcoin Core's secret. */
export async function ensureDependentEnv(host: Host, nodeId: string): Promise<boolean> {
  const password = (await host.readFile(PASSWORD_FILE))?.trim();
  if (!password) {
    throw new OpError(
      `Bitcoin Core's RPC password is missing (${PASSWORD_FILE})`,
      "Install bitcoin-core again.",
    );
  }
  await ensureSecretsDir(host);
  return ensureFile(host, envFilePath(nodeId), renderDependentEnv(password), 0o600);
}
