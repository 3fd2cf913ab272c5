// freehold-agent's entry (bundled to /opt/freehold/agent.mjs; run as root by freehold-agent.service,
// socket-activated by freehold-agent.socket). Everything but the wiring lives in start.ts, and in
// cli.ts for `call OP` (the backup timers' services run ops that way).
import { callOp, readProcessStdin } from "./cli";
import { AGENT_OPS } from "./ops/index";
import { createRealHost } from "./real-host";
import { startAgent } from "./start";
import { createAgentTerminal, realTerminalDeps } from "./terminal";

if (process.argv[2] === "call") {
  callOp(process.argv.slice(3), {
    ops: AGENT_OPS,
    host: createRealHost,
    readStdin: readProcessStdin,
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`freehold-agent: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(70);
    },
  );
} else {
  startAgent({
    ops: AGENT_OPS,
    host: createRealHost,
    openTerminal: createAgentTerminal(realTerminalDeps()),
  }).catch((error: unknown) => {
    console.error(`freehold-agent: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
