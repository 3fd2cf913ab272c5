/**
 * Where the web app's start-up goes in the guest: boots an image under QEMU with freehold-web
 * started under Node's CPU profiler (a drop-in delivered as a credential; the image is unchanged),
 * asks for the wizard's first page from the host as bench-boot does, then prints which modules
 * took the CPU from exec to listening and from listening to the first page's answer.
 *   npx tsx bench/bench-web-start.ts [amd64|arm64]
 * The profiler itself slows Node down (about 1.5-2x under TCG), so read the shares, not the seconds.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { z } from "zod";
import { bootVm } from "../image/vm/qemu";
import { binaryCredential, WEB_LISTENING_SH } from "../image/vm/selftest";
import { webExecStart } from "../image/web-unit";
import { REPO } from "../scripts/sources";
import { httpsGet, waitForWizard } from "../test/vm/guest";
import { imageFor } from "../test/vm/images";

const PORT = "org.freehold.webprofile";
const PROFILE_DIR = "/var/lib/freehold/profile";
// After the app listens, the host has this long to ask for its pages before the profile is cut.
const PAGES_WINDOW_S = 90;

const SCRIPT = `#!/bin/bash
exec > /dev/virtio-ports/${PORT} 2>&1
${WEB_LISTENING_SH}
for _ in $(seq 600); do [ -n "$(listening)" ] && break; sleep 1; done
echo "LISTENING_US=$(listening)"
sleep ${PAGES_WINDOW_S}
systemctl stop freehold-web.service
for f in ${PROFILE_DIR}/*.cpuprofile; do echo "PROFILE=$(gzip -c "$f" | base64 -w0)"; done
echo "DONE"
`;

/** freehold-web's own command line (node flags included), with the CPU profiler added. */
function profiledExecStart(): string {
  const [node, ...args] = webExecStart(REPO);
  const profiler = ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`, "--cpu-prof-interval=2000"];
  return `ExecStart=${[node, ...profiler, ...args].join(" ")}`;
}

const CREDENTIALS = [
  binaryCredential("freehold.webprofile.sh", SCRIPT),
  binaryCredential(
    "systemd.extra-unit.freehold-webprofile.service",
    "[Unit]\nAfter=freehold-web.service\n[Service]\nType=exec\nLoadCredential=freehold.webprofile.sh\n" +
      `ExecStart=/bin/bash \${CREDENTIALS_DIRECTORY}/freehold.webprofile.sh\n`,
  ),
  binaryCredential(
    "systemd.unit-dropin.multi-user.target~freehold-webprofile",
    "[Unit]\nWants=freehold-webprofile.service\n",
  ),
  // --cpu-prof is refused in NODE_OPTIONS, so the drop-in replaces the command line.
  binaryCredential(
    "systemd.unit-dropin.freehold-web.service~profile",
    `[Service]\nExecStart=\n${profiledExecStart()}\n`,
  ),
];

const CpuProfileSchema = z.object({
  nodes: z.array(
    z.object({ id: z.number(), callFrame: z.object({ functionName: z.string(), url: z.string() }) }),
  ),
  startTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
type CpuProfile = z.infer<typeof CpuProfileSchema>;

/** Busy µs per module (or V8 category) between two points of CLOCK_MONOTONIC, in µs. */
function selfTimeByModule(profile: CpuProfile, fromUs: number, toUs: number): Map<string, number> {
  const label = new Map(
    profile.nodes.map((n) => [
      n.id,
      (n.callFrame.url || n.callFrame.functionName)
        .replace(/^.*node_modules\//, "")
        .replace(/^(file:\/\/)?\/opt\/freehold\//, ""),
    ]),
  );
  const byModule = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    const name = label.get(id) ?? "?";
    if (at < fromUs || at > toUs || name === "(idle)") return;
    byModule.set(name, (byModule.get(name) ?? 0) + delta);
  });
  return byModule;
}

function printTop(title: string, byModule: Map<string, number>, count = 15): void {
  const total = [...byModule.values()].reduce((a, b) => a + b, 0);
  console.log(`\n${title}: ${(total / 1e6).toFixed(1)} s of CPU (profiled)`);
  for (const [name, us] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    console.log(
      `  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1e6).toFixed(2).padStart(6)} s  ${name}`,
    );
  }
}

const target = z.enum(["amd64", "arm64"]).parse(process.argv[2] ?? "amd64");
const workDir = mkdtempSync(path.join(tmpdir(), "freehold-bench-web-"));
const vm = await bootVm({
  target,
  firmware: "uefi",
  image: await imageFor(target),
  workDir,
  forwards: [{ host: 0, guest: 443 }],
  smbiosCredentials: CREDENTIALS,
  virtioPorts: [PORT],
});
try {
  const port = vm.ports[0]?.host ?? 0;
  await waitForWizard(vm, port, 15 * 60_000);
  const firstMs = Date.now() - vm.startedAt;
  const warm: string[] = [];
  for (const page of ["/setup", "/"]) {
    const started = Date.now();
    const answer = await httpsGet(port, page, 120_000);
    warm.push(`${page} ${answer.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const file = vm.portLogs[PORT] ?? "";
  const output = () => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return "";
    }
  };
  const deadline = Date.now() + (PAGES_WINDOW_S + 300) * 1000;
  while (!output().includes("DONE") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2000));
  const listeningUs = Number(/LISTENING_US=(\d+)/.exec(output())?.[1]);
  const encoded = /PROFILE=(\S+)/.exec(output())?.[1];
  if (!encoded || !Number.isFinite(listeningUs)) {
    throw new Error(
      `The guest sent no profile (is freehold-web running?).\n${output().slice(-2000)}\n${vm.tail(30)}`,
    );
  }
  const profile = CpuProfileSchema.parse(
    JSON.parse(gunzipSync(Buffer.from(encoded, "base64")).toString("utf8")),
  );
  console.log(
    `${target}: first 200 of / at ${(firstMs / 1000).toFixed(1)} s after QEMU started (profiled); ` +
      `web started at ${(profile.startTime / 1e6).toFixed(1)} s and listened at ${(listeningUs / 1e6).toFixed(1)} s (guest clock); ` +
      `then ${warm.join(", ")}`,
  );
  printTop("Start-up (exec to listening)", selfTimeByModule(profile, 0, listeningUs));
  printTop(
    "After listening (the first pages)",
    selfTimeByModule(profile, listeningUs, Number.POSITIVE_INFINITY),
  );
} finally {
  await vm.stop();
  rmSync(workDir, { recursive: true, force: true });
}
