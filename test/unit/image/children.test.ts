import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { exitsWithin, trackChild } from "../../../image/children";
import { BootOptionsSchema, qemuArgv } from "../../../image/vm/qemu";

const sh = (script: string) => spawn("sh", ["-c", script], { stdio: ["ignore", "ignore", "pipe"] });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("children of the build and the VM harness (QEMU, swtpm, the code cache's web app)", () => {
  it("records the exit code and keeps only the tail of stderr", async () => {
    const tracked = trackChild(sh("printf 'early noise 0123456789 last words' >&2; exit 3"), 10);
    expect(tracked.exitCode()).toBeUndefined();
    expect(await tracked.exited).toBe(3);
    expect(tracked.exitCode()).toBe(3);
    expect(tracked.stderr()).toBe("last words");
  });

  it("keeps no stderr at all for a limit of 0 (the caller keeps its own)", async () => {
    const tracked = trackChild(sh("printf 'noise' >&2; exit 0"), 0);
    expect(await tracked.exited).toBe(0);
    expect(tracked.stderr()).toBe("");
  });

  it("reads a kill as an exit with no code", async () => {
    const child = sh("sleep 30");
    const tracked = trackChild(child, 100);
    child.kill("SIGKILL");
    expect(await tracked.exited).toBeNull();
    expect(tracked.exitCode()).toBeNull();
  });

  it("reads a command that could not start as exited, with no code", async () => {
    const child = spawn("/nonexistent/freehold-no-such-tool", [], { stdio: ["ignore", "ignore", "pipe"] });
    const tracked = trackChild(child, 100);
    expect(await tracked.exited).toBeNull();
    expect(tracked.exitCode()).toBeNull();
  });

  it("tells whether a child exits within a time limit", async () => {
    const child = sh("sleep 30");
    const tracked = trackChild(child, 100);
    expect(await exitsWithin(tracked, 200)).toBe(false);
    child.kill("SIGTERM");
    expect(await exitsWithin(tracked, 5_000)).toBe(true);
    expect(await exitsWithin(trackChild(sh("exit 0"), 10), 5_000)).toBe(true);
  });

  it("kills a tracked child when the process that started it is interrupted", async () => {
    const runner = spawn(process.execPath, ["--import", "tsx", "test/unit/image/tracked-child-runner.ts"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      runner.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      runner.once("exit", (code) =>
        reject(new Error(`the runner exited (${code}) before it started its child`)),
      );
    });
    expect(alive(pid)).toBe(true);
    const exited = new Promise<number | null>((resolve) => runner.once("exit", (code) => resolve(code)));
    runner.kill("SIGINT");
    expect(await exited).toBe(130);
    // The sleep is the runner's child; once killed it is reaped by init (or lingers as a zombie
    // only until then), so poll briefly.
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
  }, 30_000);
});

describe("the QEMU argv for extra disks", () => {
  const files = (extraDisks: string[]) => ({
    overlay: "/w/boot.qcow2",
    extraDisks,
    varsFile: "/w/efivars.fd",
    serialLog: "/w/serial.log",
    pidFile: "/w/qemu.pid",
    portLogs: [],
  });
  const argvFor = (disks: unknown[]) =>
    qemuArgv(
      BootOptionsSchema.parse({ target: "amd64", image: "/i.img", workDir: "/w", disks }),
      files(disks.map((_, i) => `/w/disk${i + 1}.qcow2`)),
      [],
    );
  /** The -device values, in order. */
  const devices = (argv: string[]) => argv.flatMap((a, i) => (argv[i - 1] === "-device" ? [a] : []));

  it("attaches every disk as virtio-blk by default (vda, vdb, vdc), each extra with its serial", () => {
    const argv = argvFor([{ size: "12G" }, { file: "/data.img" }]);
    expect(devices(argv).filter((d) => /blk|usb|xhci/.test(d))).toEqual([
      "virtio-blk-pci,drive=boot",
      "virtio-blk-pci,drive=extra1,serial=freehold-disk1",
      "virtio-blk-pci,drive=extra2,serial=freehold-disk2",
    ]);
    expect(argv).toContain("if=none,id=extra2,format=qcow2,file=/w/disk2.qcow2");
    expect(argv.join(" ")).not.toMatch(/xhci|usb-storage/);
  });

  it("plugs a `usb: true` disk in as a removable USB stick on one xHCI controller", () => {
    const argv = argvFor([{ size: "12G" }, { size: "1G", usb: true }, { size: "1G", usb: true }]);
    expect(devices(argv).filter((d) => /blk|usb|xhci/.test(d))).toEqual([
      "virtio-blk-pci,drive=boot",
      "qemu-xhci,id=xhci",
      "virtio-blk-pci,drive=extra1,serial=freehold-disk1",
      "usb-storage,bus=xhci.0,drive=extra2,serial=freehold-disk2,removable=on",
      "usb-storage,bus=xhci.0,drive=extra3,serial=freehold-disk3,removable=on",
    ]);
    // The boot disk stays first (vda) and the data disk the first virtio extra (vdb).
    expect(argv.indexOf("virtio-blk-pci,drive=boot")).toBeLessThan(
      argv.indexOf("virtio-blk-pci,drive=extra1,serial=freehold-disk1"),
    );
    expect(argv).toContain("if=none,id=extra2,format=qcow2,file=/w/disk2.qcow2");
  });

  it("takes usb on a disk made from an existing file too, and refuses unknown keys", () => {
    expect(devices(argvFor([{ file: "/stick.img", usb: true }]))).toContain(
      "usb-storage,bus=xhci.0,drive=extra1,serial=freehold-disk1,removable=on",
    );
    expect(() =>
      BootOptionsSchema.parse({
        target: "amd64",
        image: "/i",
        workDir: "/w",
        disks: [{ size: "1G", scsi: true }],
      }),
    ).toThrow();
  });
});
