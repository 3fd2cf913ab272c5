// freehold-agent's entry (bundled to /opt/freehold/agent.mjs; run as root by freehold-agent.service,
// socket-activated by freehold-agent.socket). Everything but the wiring lives in start.ts.
import { AGENT_OPS } from "./ops/index";
import { createRealHost } from "./real-host";
import { startAgent } from "./start";
import { createAgentTerminal, realTerminalDeps } from "./terminal";

startAgent({
  ops: AGENT_OPS,
  host: createRealHost,
  openTerminal: createAgentTerminal(realTerminalDeps()),
}).catch((error: unknown) => {
  console.error(`freehold-agent: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
