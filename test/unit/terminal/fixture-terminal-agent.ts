// freehold-agent with the real terminal (node-pty, setpriv, /etc/passwd, /etc/shells) and no ops;
// the owner record comes from FREEHOLD_TEST_OWNER instead of /var/lib/freehold-agent/owner. Bundled by
// pty-real.test.ts with scripts/bundle-agent.mjs, exactly like /opt/freehold/agent.mjs.
import { createRealHost } from "../../../app/agent/real-host";
import { startAgent } from "../../../app/agent/start";
import { createAgentTerminal, realTerminalDeps } from "../../../app/agent/terminal";

const owner = process.env.FREEHOLD_TEST_OWNER ?? "";
startAgent({
  ops: {},
  host: createRealHost,
  openTerminal: createAgentTerminal({
    ...realTerminalDeps(),
    readOwner: async () => ({ ok: true, name: owner }),
  }),
}).catch((error: unknown) => {
  console.error(`freehold-agent: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
