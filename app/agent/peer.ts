import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, readlink } from "node:fs/promises";
import type { Socket } from "node:net";

/**
 * Who is on the other end of an accepted Unix socket connection.
 *
 * The kernel knows (SO_PEERCRED), but Node has no API for it, and the agent stays free of native
 * addons on purpose: it is bundled into one .mjs that runs on the image's own Node.js on amd64 and
 * arm64, with no compiler, no per-arch prebuilt binary and no ABI to keep in step (the web app's
 * better-sqlite3 already costs a cross build). So we ask the kernel another way, through the
 * sock_diag interface that `ss` (iproute2, in the image) reads:
 *
 *   1. the accepted socket's inode N: readlink /proc/self/fd/<fd> → "socket:[N]";
 *   2. `ss -xpnH` (argv, no shell): the line whose local inode is N names its peer's inode P;
 *   3. the line whose local inode is P lists the processes holding it: users:(("node",pid=PID,fd=FD));
 *   4. for each, /proc/PID/fd/FD must still be "socket:[P]" (so a process name crafted to look like
 *      `",pid=1,fd=3` in ss's output, or a PID reused since, proves nothing), and /proc/PID/status
 *      gives its effective uid ("Uid:" real, effective, saved, fs).
 * Any failure along the way (tool missing, line not found, process gone) answers null: refuse.
 *
 * Limits, compared with SO_PEERCRED (which records the credentials at connect() time):
 * - this reads the uid of the processes that hold the peer socket *now*. A socket handed to another
 *   process (fork, SCM_RIGHTS) counts every holder, and all of them must be allowed; a process that
 *   changed its uid after connecting is judged by its current uid. Both only matter to someone who
 *   could connect in the first place: the socket file is 0660 root:freehold, so the kernel already
 *   limits connect() to root and the freehold group. This check is the second lock.
 * - a client that connects and exits at once leaves no holder: refused (it cannot wait for answers
 *   anyway).
 * - `ss -p` walks /proc/[pid]/fd of every process: a few milliseconds per connection on a small box,
 *   and it must run as root to see other users' processes (the agent does).
 * - the socket must be in the agent's network namespace (it is: PrivateNetwork is off).
 */

export type PeerLookup = (socket: Socket) => Promise<number | null>;

interface SsLine {
  inode: string;
  peer: string;
  holders: { pid: number; fd: number }[];
}

/**
 * Parses `ss -xpnH` output: Netid State Recv-Q Send-Q LocalAddr LocalInode PeerAddr PeerInode
 * [users:(("comm",pid=P,fd=F),...)]. Addresses are socket paths, which any local user can choose
 * (spaces and digits included), so a line is read from its end: the process list is cut off, then
 * the last three fields must be `<local inode> * <peer inode>` (ss prints the peer's address as "*"
 * when it reads sock_diag). A line that does not fit is skipped. Callers must still treat an inode
 * claimed by two lines as unknown (a crafted path could imitate a line), and check every holder
 * against /proc.
 */
export function parseSsUnix(text: string): SsLine[] {
  const lines: SsLine[] = [];
  for (const raw of text.split("\n")) {
    const users = raw.indexOf(" users:((");
    const head = (users >= 0 ? raw.slice(0, users) : raw).trim().split(/\s+/);
    const peer = head.at(-1);
    const local = head.at(-3);
    if (head.length < 7 || head.at(-2) !== "*" || !peer || !local) continue;
    if (!/^\d+$/.test(peer) || !/^\d+$/.test(local)) continue;
    const holders: SsLine["holders"] = [];
    if (users >= 0) {
      for (const h of raw.slice(users).matchAll(/,pid=(\d+),fd=(\d+)\)/g)) {
        holders.push({ pid: Number(h[1]), fd: Number(h[2]) });
      }
    }
    lines.push({ inode: local, peer, holders });
  }
  return lines;
}

/** The one line whose local inode is `inode`; null when none, or when two lines claim it. */
function lineOf(table: SsLine[], inode: string): SsLine | null {
  const found = table.filter((l) => l.inode === inode);
  return found.length === 1 ? (found[0] ?? null) : null;
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        encoding: "utf8",
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, LC_ALL: "C" },
      },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
}

async function socketInode(path: string): Promise<string | null> {
  const link = await readlink(path).catch(() => null);
  return /^socket:\[(\d+)\]$/.exec(link ?? "")?.[1] ?? null;
}

export async function effectiveUid(pid: number): Promise<number | null> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => null);
  const uid = /^Uid:\s+\d+\s+(\d+)\s/m.exec(status ?? "")?.[1];
  return uid === undefined ? null : Number(uid);
}

const SS_CANDIDATES = ["/usr/bin/ss", "/bin/ss", "/usr/sbin/ss", "/sbin/ss"];

/**
 * The peer's effective uid via /proc and `ss`, or null when it cannot be established. When several
 * processes hold the peer socket they must all have the same uid; otherwise null.
 */
export function procPeerUid(options: { ss?: string; timeoutMs?: number } = {}): PeerLookup {
  const ss = options.ss ?? SS_CANDIDATES.find((p) => existsSync(p)) ?? "ss";
  const timeoutMs = options.timeoutMs ?? 5000;
  return async (socket) => {
    try {
      const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
      if (typeof fd !== "number" || fd < 0) return null;
      const inode = await socketInode(`/proc/self/fd/${fd}`);
      if (!inode) return null;
      const table = parseSsUnix(await run(ss, ["-xpnH"], timeoutMs));
      const mine = lineOf(table, inode);
      if (!mine || mine.peer === "0") return null;
      const peer = lineOf(table, mine.peer);
      if (!peer || peer.peer !== inode) return null;
      const uids = new Set<number>();
      for (const h of peer.holders) {
        if ((await socketInode(`/proc/${h.pid}/fd/${h.fd}`)) !== peer.inode) continue;
        const uid = await effectiveUid(h.pid);
        if (uid === null) return null;
        uids.add(uid);
      }
      return uids.size === 1 ? ([...uids][0] ?? null) : null;
    } catch {
      return null;
    }
  };
}
