/**
 * Boots a built image under QEMU (TCG: KVM cannot boot normal kernels on our build machines) on a
 * copy-on-write overlay, so the image itself is never changed. Serial console goes to a log file;
 * host ports forward to the guest; extra virtual disks can be attached. Every QEMU started here
 * is killed when the VM is stopped, when the Node process exits, or on SIGINT/SIGTERM.
 */
import { spawn } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  statSync,
} from "node:fs";
import net from "node:net";
import path from "node:path";
import { z } from "zod";
import { pollUntil } from "../../app/lib/poll";
import { trackChild } from "../children";
import { run } from "../exec";

export const FirmwareSchema = z.enum(["uefi", "bios"]);

export const BootOptionsSchema = z.strictObject({
  target: z.enum(["amd64", "arm64"]),
  firmware: FirmwareSchema.default("uefi"),
  /** The raw image (decompressed). It is only read: writes go to an overlay in workDir. */
  image: z.string().min(1),
  /** Virtual size of the boot disk; larger than the image, so first boot has free space to grow into. */
  diskSize: z
    .string()
    .regex(/^\d+[MG]$/)
    .default("8G"),
  /**
   * Extra disks: an existing file, or `{ size }` to create an empty one in workDir. `usb: true`
   * plugs it in as a removable USB stick (xHCI, usb-storage: the guest's sda, sdb...) instead of a
   * virtio disk, as a backup disk would be; the virtio ones keep vdb, vdc... in order.
   */
  disks: z
    .array(
      z.union([
        z.strictObject({ file: z.string().min(1), usb: z.boolean().default(false) }),
        z.strictObject({ size: z.string().regex(/^\d+[MG]$/), usb: z.boolean().default(false) }),
      ]),
    )
    .default([]),
  forwards: z
    .array(
      z.strictObject({ host: z.number().int().min(0).max(65535), guest: z.number().int().min(1).max(65535) }),
    )
    .default([]),
  memoryMiB: z.number().int().min(256).default(2048),
  cpus: z.number().int().min(1).max(16).default(2),
  workDir: z.string().min(1),
  /** SMBIOS type 11 strings (systemd credentials), e.g. io.systemd.credential:name=value. */
  smbiosCredentials: z.array(z.string().min(1)).default([]),
  /** Virtio serial ports (guest: /dev/virtio-ports/NAME), each written to a file in workDir. */
  virtioPorts: z.array(z.string().regex(/^[a-z0-9.-]+$/)).default([]),
  /** A software TPM 2.0 (swtpm) whose state lives in workDir, so it survives reboots and resumes. */
  tpm: z.boolean().default(false),
  /** No network device at all (the offline boot variant). */
  offline: z.boolean().default(false),
  /**
   * Boot again from the overlay, extra disks and UEFI variables a previous boot left in workDir
   * (a reboot, or the power coming back after QEMU was killed); missing ones are created.
   */
  resume: z.boolean().default(false),
});

export type BootOptions = z.input<typeof BootOptionsSchema>;

export interface Vm {
  readonly pid: number;
  readonly serialLog: string;
  /** Files receiving each virtio serial port's output, keyed by port name. */
  readonly portLogs: Record<string, string>;
  /** Host ports actually bound for each forward, in the order given (0 asks for a free one). */
  readonly ports: { host: number; guest: number }[];
  readonly startedAt: number;
  /** Resolves with the match once the serial log matches, or rejects after timeoutMs with the log's tail. */
  waitForSerial(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code when QEMU exits (for guests that power off by themselves). */
  waitForExit(timeoutMs: number): Promise<number | null>;
  serialText(): string;
  tail(lines?: number): string;
  /**
   * Why the guest can no longer answer (QEMU exited, or its kernel panicked), or undefined while it
   * can: waits give up at once instead of running into their timeouts.
   */
  dead(): GuestDeath | undefined;
  stop(): Promise<void>;
  /** Pulls the plug: SIGKILL, no flush of anything the guest had not written yet. */
  powerCut(): Promise<void>;
}

const FIRMWARE = {
  amd64: {
    uefi: { code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: "/usr/share/OVMF/OVMF_VARS_4M.fd" },
  },
  arm64: {
    uefi: { code: "/usr/share/AAVMF/AAVMF_CODE.fd", vars: "/usr/share/AAVMF/AAVMF_VARS.fd" },
  },
} as const;

export type GuestDeath = { reason: string; kernelPanic: boolean };

const KERNEL_PANIC = /Kernel panic - not syncing/;

/** A wait that ended because the guest died; `death` says how (a kernel panic may be worth a retry). */
export class GuestDiedError extends Error {
  constructor(
    message: string,
    readonly death: GuestDeath,
  ) {
    super(message);
    this.name = "GuestDiedError";
  }
}

/**
 * Runs one boot, and once more when the first guest's kernel panicked: under TCG a guest kernel
 * can crash while it patches its own code (seen: "Oops: int3" in hrtimer_start_range_ns two seconds
 * into an otherwise good boot). A panic the image causes happens again and is reported then.
 */
export async function retryOnKernelPanic<T>(what: string, boot: () => Promise<T>): Promise<T> {
  try {
    return await boot();
  } catch (error) {
    if (!(error instanceof GuestDiedError && error.death.kernelPanic)) throw error;
    console.warn(
      `[vm] ${what}: the guest kernel panicked; booting a fresh copy once more.\n${error.message}`,
    );
    return boot();
  }
}

/** Asks the kernel for a free loopback port (for forwards given as host 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export function tailOf(text: string, lines = 40): string {
  return text.split("\n").slice(-lines).join("\n");
}

/** The QEMU argv for a VM; pure, so tests can check it without booting. */
export function qemuArgv(
  opts: z.output<typeof BootOptionsSchema>,
  files: {
    overlay: string;
    extraDisks: string[];
    varsFile: string | null;
    serialLog: string;
    pidFile: string;
    portLogs: string[];
    tpmSocket?: string;
  },
  ports: { host: number; guest: number }[],
): string[] {
  const argv: string[] = [];
  if (opts.target === "amd64") {
    argv.push("qemu-system-x86_64", "-machine", "q35", "-cpu", "max");
  } else {
    // pauth-impdef keeps pointer authentication cheap under TCG.
    argv.push("qemu-system-aarch64", "-machine", "virt", "-cpu", "max,pauth-impdef=on");
  }
  argv.push("-accel", "tcg", "-m", String(opts.memoryMiB), "-smp", String(opts.cpus));
  argv.push("-display", "none", "-monitor", "none", "-no-reboot", "-serial", `file:${files.serialLog}`);
  argv.push("-pidfile", files.pidFile);
  if (opts.firmware === "uefi") {
    const fw = FIRMWARE[opts.target].uefi;
    argv.push("-drive", `if=pflash,format=raw,unit=0,readonly=on,file=${fw.code}`);
    argv.push("-drive", `if=pflash,format=raw,unit=1,file=${files.varsFile}`);
  }
  // Every disk as a virtio-blk device in this order (boot, then extras), so the guest names them
  // vda, vdb, vdc...: mixing if=virtio drives with -device ones enumerated the extras first.
  argv.push("-drive", `if=none,id=boot,format=qcow2,file=${files.overlay}`);
  argv.push("-device", "virtio-blk-pci,drive=boot");
  // A serial per extra disk, so udev gives it a stable /dev/disk/by-id/ name: virtio-freehold-diskN
  // for a virtio disk, usb-QEMU_QEMU_HARDDISK_freehold-diskN-0:0 for a USB stick (the backup
  // target names a USB disk that way). (-drive takes no serial: the device does.)
  // USB sticks hang off one xHCI controller, marked removable as a real stick is (the wizard
  // offers only removable disks as backup targets).
  if (opts.disks.some((d) => d.usb)) argv.push("-device", "qemu-xhci,id=xhci");
  for (const [index, disk] of files.extraDisks.entries()) {
    const id = `extra${index + 1}`;
    const serial = `freehold-disk${index + 1}`;
    argv.push("-drive", `if=none,id=${id},format=qcow2,file=${disk}`);
    argv.push(
      "-device",
      opts.disks[index]?.usb
        ? `usb-storage,bus=xhci.0,drive=${id},serial=${serial},removable=on`
        : `virtio-blk-pci,drive=${id},serial=${serial}`,
    );
  }
  if (opts.offline) {
    argv.push("-nic", "none");
  } else {
    const fwd = ports.map((p) => `,hostfwd=tcp:127.0.0.1:${p.host}-:${p.guest}`).join("");
    argv.push("-nic", `user,model=virtio-net-pci${fwd}`);
  }
  argv.push("-device", "virtio-rng-pci");
  if (files.tpmSocket) {
    argv.push(
      "-chardev",
      `socket,id=chrtpm,path=${files.tpmSocket}`,
      "-tpmdev",
      "emulator,id=tpm0,chardev=chrtpm",
    );
    argv.push("-device", opts.target === "amd64" ? "tpm-crb,tpmdev=tpm0" : "tpm-tis-device,tpmdev=tpm0");
  }
  if (opts.virtioPorts.length > 0) argv.push("-device", "virtio-serial-pci");
  opts.virtioPorts.forEach((name, index) => {
    argv.push("-chardev", `file,id=port${index},path=${files.portLogs[index]}`);
    argv.push("-device", `virtserialport,chardev=port${index},name=${name}`);
  });
  opts.smbiosCredentials.forEach((value) => {
    argv.push("-smbios", `type=11,value=${value}`);
  });
  return argv;
}

/**
 * swtpm for one boot: its state directory stays in workDir (sealed keys survive a reboot or a power
 * cut); --terminate ends it when QEMU closes the connection, and the harness kills it too.
 */
async function startSwtpm(workDir: string): Promise<{ socket: string; stop: () => void }> {
  const stateDir = path.join(workDir, "tpm");
  mkdirSync(stateDir, { recursive: true });
  const socket = path.join(workDir, "swtpm.sock");
  rmSync(socket, { force: true });
  const child = spawn(
    "swtpm",
    [
      "socket",
      "--tpm2",
      "--tpmstate",
      `dir=${stateDir}`,
      "--ctrl",
      `type=unixio,path=${socket}`,
      "--terminate",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const tracked = trackChild(child, 4096);
  await pollUntil(
    () => {
      if (tracked.exitCode() !== undefined)
        throw new Error(
          `swtpm exited before it listened: ${tracked.stderr().trim() || "no message"} (apt install swtpm)`,
        );
      return existsSync(socket) ? true : undefined;
    },
    {
      timeoutMs: 10_000,
      intervalMs: 50,
      timedOut: () => new Error(`swtpm did not create ${socket} within 10 s`),
    },
  );
  return { socket, stop: () => child.kill("SIGKILL") };
}

export async function bootVm(input: BootOptions): Promise<Vm> {
  const opts = BootOptionsSchema.parse(input);
  if (opts.target === "arm64" && opts.firmware === "bios") {
    throw new Error("arm64 boots only under UEFI (AAVMF); use --firmware uefi.");
  }
  if (!existsSync(opts.image)) {
    throw new Error(
      `No image at ${opts.image}. Build it first: freehold image build --target ${opts.target}.`,
    );
  }
  mkdirSync(opts.workDir, { recursive: true });
  const overlay = path.join(opts.workDir, "boot.qcow2");
  const image = path.resolve(opts.image);
  const keep = (file: string) => opts.resume && existsSync(file);
  if (!keep(overlay)) {
    await run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image, overlay, opts.diskSize], {
      hint: "qemu-img comes with Debian's qemu-utils (scripts/bootstrap installs it)",
    });
  }
  const extraDisks: string[] = [];
  for (const [index, disk] of opts.disks.entries()) {
    const file = path.join(opts.workDir, `disk${index + 1}.qcow2`);
    if (keep(file)) {
      // the data written by the previous boot stays
    } else if ("file" in disk) {
      await run([
        "qemu-img",
        "create",
        "-q",
        "-f",
        "qcow2",
        "-F",
        "raw",
        "-b",
        path.resolve(disk.file),
        file,
      ]);
    } else {
      await run(["qemu-img", "create", "-q", "-f", "qcow2", file, disk.size]);
    }
    extraDisks.push(file);
  }
  let varsFile: string | null = null;
  if (opts.firmware === "uefi") {
    varsFile = path.join(opts.workDir, "efivars.fd");
    if (!keep(varsFile)) copyFileSync(FIRMWARE[opts.target].uefi.vars, varsFile);
  }
  const ports = await Promise.all(
    opts.forwards.map(async (f) => ({ host: f.host === 0 ? await freePort() : f.host, guest: f.guest })),
  );
  const serialLog = path.join(opts.workDir, "serial.log");
  const pidFile = path.join(opts.workDir, "qemu.pid");
  const portLogs = opts.virtioPorts.map((name) => path.join(opts.workDir, `${name}.log`));
  const tpm = opts.tpm ? await startSwtpm(opts.workDir) : null;
  const argv = qemuArgv(
    opts,
    {
      overlay,
      extraDisks,
      varsFile,
      serialLog,
      pidFile,
      portLogs,
      ...(tpm ? { tpmSocket: tpm.socket } : {}),
    },
    ports,
  );

  const [command, ...args] = argv as [string, ...string[]];
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  const { exited, exitCode, stderr } = trackChild(child, 8192);
  // swtpm goes when QEMU exits (not when QEMU could not be started: the harness's cleanup kills it).
  if (tpm) child.once("exit", () => tpm.stop());
  const startedAt = Date.now();

  const serialText = (): string => {
    if (!existsSync(serialLog)) return "";
    const size = statSync(serialLog).size;
    const fd = openSync(serialLog, "r");
    try {
      const buffer = Buffer.alloc(size);
      readSync(fd, buffer, 0, size, 0);
      return buffer.toString("utf8");
    } finally {
      closeSync(fd);
    }
  };
  const explainFailure = () =>
    `${stderr() ? `QEMU said: ${stderr().trim()}\n` : ""}Last lines of the serial console (${serialLog}):\n${tailOf(serialText())}`;

  const dead = (): GuestDeath | undefined => {
    if (exitCode() !== undefined) return { reason: `QEMU exited (code ${exitCode()})`, kernelPanic: false };
    if (KERNEL_PANIC.test(serialText())) return { reason: "the guest's kernel panicked", kernelPanic: true };
    return undefined;
  };

  const vm: Vm = {
    pid: child.pid ?? -1,
    serialLog,
    portLogs: Object.fromEntries(opts.virtioPorts.map((name, index) => [name, portLogs[index] ?? ""])),
    ports,
    startedAt,
    serialText,
    tail: (lines) => tailOf(serialText(), lines),
    dead,
    async waitForSerial(pattern, timeoutMs) {
      return pollUntil(
        () => {
          const match = serialText().match(pattern);
          if (match) return match;
          const death = dead();
          if (death)
            throw new GuestDiedError(
              `${death.reason} before the console showed ${pattern}.\n${explainFailure()}`,
              death,
            );
          return undefined;
        },
        {
          timeoutMs,
          intervalMs: 250,
          timedOut: () =>
            new Error(
              `Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${pattern}.\n${explainFailure()}`,
            ),
        },
      );
    },
    async waitForExit(timeoutMs) {
      const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), timeoutMs).unref());
      const result = await Promise.race([exited, timer]);
      if (result === "timeout") {
        throw new Error(`QEMU still running after ${Math.round(timeoutMs / 1000)} s.\n${explainFailure()}`);
      }
      return result;
    },
    async stop() {
      if (exitCode() !== undefined) return;
      child.kill("SIGTERM");
      const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 5000).unref());
      if ((await Promise.race([exited, timer])) === "timeout") {
        child.kill("SIGKILL");
        await exited;
      }
    },
    async powerCut() {
      if (exitCode() !== undefined) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
  return vm;
}
