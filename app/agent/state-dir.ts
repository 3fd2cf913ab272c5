/**
 * Where the agent keeps its state: root's alone (0700, made by tmpfiles.d/freehold.conf), apart
 * from /var/lib/freehold, which the web app (user freehold) can write. Nothing the agent trusts
 * (the volume record, a pending firewall, the owner's name) may live where the web app could plant it.
 */
export const AGENT_STATE_DIR = "/var/lib/freehold-agent";
