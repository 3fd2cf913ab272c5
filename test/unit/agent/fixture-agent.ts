// freehold-agent's entry with the stand-in registry instead of the real ops, for start.test.ts:
// run as `node --import tsx fixture-agent.ts [args]`, e.g. under systemd-socket-activate.
import { startAgent } from "../../../app/agent/start";
import { fakeHost, standInOps } from "./stand-ins";

const record = { runs: [], timeline: [] };
startAgent({ ops: standInOps(record), host: (progress) => fakeHost(progress, record) }).catch(
  (error: unknown) => {
    console.error(`freehold-agent: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
