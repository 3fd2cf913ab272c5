/**
 * Where the agent keeps its state: root's alone (0700, made by tmpfiles.d/freehold.conf), apart
 * from /var/lib/freehold, which the web app (user freehold) can write. Nothing the agent trusts
 * (the volume record, a pending firewall, the owner's name) may live where the web app could plant it.
 */
export const AGENT_STATE_DIR = "/var/lib/freehold-agent";

/**
 * The agent's runtime directory for secret sockets (RealHost.serveSecret): root's alone, 0700,
 * made by the agent itself (RuntimeDirectory would do too). Not /run/freehold, where the web app
 * reaches the agent's socket.
 */
export const AGENT_RUNTIME_DIR = "/run/freehold-agent";
