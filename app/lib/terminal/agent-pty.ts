import { randomUUID } from "node:crypto";
import net from "node:net";
import { AGENT_MAX_LINE, AgentFailureSchema } from "../../_schemas/agent";
import {
  chunkText,
  type TerminalFrame,
  TerminalFrameSchema,
  TerminalOpenedSchema,
  type TerminalOpenRequest,
} from "../../_schemas/terminal";
import { LineReader } from "../ndjson";
import type { PtyExit, PtyHost, PtyProcess } from "./pty";

/**
 * The appliance's PtyHost: freehold-web runs as `freehold` (no privileges, NoNewPrivileges), so it
 * cannot start a shell as the owner. It asks freehold-agent instead, on a connection of its own:
 * one TerminalOpenRequest (the size; never a user or a command), then TerminalFrames both ways
 * (app/_schemas/terminal.ts). Closing the connection ends the shell.
 */

export class TerminalRefused extends Error {
  override name = "TerminalRefused";
}

const OPEN_TIMEOUT_MS = 15_000;

export function agentPtyHost(socketPath: string): PtyHost {
  return {
    open(size) {
      return new Promise<PtyProcess>((resolve, reject) => {
        const id = randomUUID();
        const socket = net.connect(socketPath);
        const dataListeners: ((data: string) => void)[] = [];
        const exitListeners: ((exit: PtyExit) => void)[] = [];
        let opened: { pid: number; user: string } | null = null;
        let exit: PtyExit | null = null;
        const timer = setTimeout(
          () => fail("freehold-agent did not open the terminal in time"),
          OPEN_TIMEOUT_MS,
        );

        const fail = (message: string) => {
          clearTimeout(timer);
          socket.destroy();
          if (!opened) reject(new TerminalRefused(message));
        };
        const ended = (e: PtyExit) => {
          if (exit) return;
          exit = e;
          for (const l of exitListeners) l(e);
        };
        const send = (frame: TerminalFrame) => {
          if (!exit && socket.writable) socket.write(`${JSON.stringify(frame)}\n`);
        };

        const reader = new LineReader(
          AGENT_MAX_LINE,
          (line) => {
            let value: unknown;
            try {
              value = JSON.parse(line);
            } catch {
              return fail("freehold-agent sent something that is not JSON");
            }
            if (!opened) {
              const ok = TerminalOpenedSchema.safeParse(value);
              if (ok.success && ok.data.id === id) {
                clearTimeout(timer);
                opened = { pid: ok.data.pid, user: ok.data.user };
                return resolve(handle(opened));
              }
              const no = AgentFailureSchema.safeParse(value);
              return fail(no.success ? no.data.message : "freehold-agent answered out of protocol");
            }
            const frame = TerminalFrameSchema.safeParse(value);
            if (!frame.success) return socket.destroy();
            if (frame.data.type === "data") for (const l of dataListeners) l(frame.data.data);
            else if (frame.data.type === "exit") {
              ended({ code: frame.data.code, signal: frame.data.signal });
              socket.end();
            }
          },
          () => socket.destroy(),
        );

        const handle = (o: { pid: number; user: string }): PtyProcess => ({
          pid: o.pid,
          user: o.user,
          write: (data) => {
            for (const piece of chunkText(data)) send({ type: "data", data: piece });
          },
          resize: ({ cols, rows }) => send({ type: "resize", cols, rows }),
          kill: () => socket.end(),
          pause: () => socket.pause(),
          resume: () => socket.resume(),
          onData: (l) => {
            dataListeners.push(l);
          },
          onExit: (l) => {
            exitListeners.push(l);
          },
        });

        socket.on("connect", () => {
          const request: TerminalOpenRequest = { id, terminal: "open", cols: size.cols, rows: size.rows };
          socket.write(`${JSON.stringify(request)}\n`);
        });
        socket.on("data", (chunk: Buffer) => reader.push(chunk));
        socket.on("error", (error: NodeJS.ErrnoException) =>
          fail(`freehold-agent is not reachable (${error.code ?? error.message})`),
        );
        socket.on("close", () => {
          if (!opened) fail("freehold-agent closed the connection");
          else ended({ code: null, signal: null });
        });
      });
    },
  };
}
