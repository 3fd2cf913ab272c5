// Started by children.test.ts: tracks a long `sleep`, prints its pid, then waits to be interrupted.
import { spawn } from "node:child_process";
import { trackChild } from "../../../image/children";

const child = spawn("sleep", ["300"], { stdio: ["ignore", "ignore", "pipe"] });
trackChild(child, 100);
process.stdout.write(`${child.pid}\n`);
setInterval(() => {}, 1000);
