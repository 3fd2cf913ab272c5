import { MAPPER_PATH } from "../../../app/agent/ops/luks";
import { RecordingHost } from "./recording-host";

/**
 * A fake machine for the volume ops: block devices with LUKS headers (label, subsystem, cipher,
 * key slots) or filesystems, the mapper, the mount; answering the commands the ops run as the real
 * tools would (exit codes included). The real tools run in luks-real.test.ts.
 */

export const PASS = "correct horse battery staple";
export const RECOVERY = "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567";
export const SECRETS = { "disk.passphrase": PASS, "disk.recoveryKey": RECOVERY };
export const PART = "/dev/disk/by-partlabel/freehold-data";

interface Device {
  luks?: {
    label: string;
    subsystem: string;
    cipher: string;
    uuid: string;
    slots: { key: string; memory: number }[];
  };
  fs?: { type: string; label: string; uuid: string };
  pttype?: string;
}

export function volumeMachine(options: { cpu?: string; slotMemory?: number } = {}) {
  const devices = new Map<string, Device>();
  const state = {
    devices,
    mapperOf: null as string | null,
    mounted: null as { source: string; fstype: string; uuid: string } | null,
    enabled: false,
  };
  const host = new RecordingHost(SECRETS).file(
    "/proc/cpuinfo",
    options.cpu ?? "flags\t\t: fpu sse2 aes avx2\n",
  );
  const dev = (path: string) => {
    if (!devices.has(path)) devices.set(path, {});
    return devices.get(path) as Device;
  };
  const last = (argv: readonly string[]) => argv.at(-1) ?? "";
  const opens = (path: string, key: string | undefined) =>
    devices.get(path)?.luks?.slots.some((s) => s.key === key) ?? false;

  host
    .on(["cryptsetup", "isLuks", "--"], (argv) => ({ code: devices.get(last(argv))?.luks ? 0 : 1 }))
    .on(["blkid", "-o", "export", "--"], (argv) => {
      const path = last(argv);
      const d = path === MAPPER_PATH ? devices.get(`mapper:${state.mapperOf}`) : devices.get(path);
      if (d?.luks) {
        const l = d.luks;
        return { stdout: `UUID=${l.uuid}\nLABEL=${l.label}\nSUBSYSTEM=${l.subsystem}\nTYPE=crypto_LUKS\n` };
      }
      if (d?.fs) return { stdout: `LABEL=${d.fs.label}\nUUID=${d.fs.uuid}\nTYPE=${d.fs.type}\n` };
      if (d?.pttype) return { stdout: `PTTYPE=${d.pttype}\n` };
      return { code: 2 };
    })
    .on(["cryptsetup", "open", "--test-passphrase"], (argv, o) => ({
      code: opens(last(argv), o.stdin) ? 0 : 2,
    }))
    .on(["cryptsetup", "luksFormat"], (argv, o) => {
      const d = dev(last(argv));
      d.fs = undefined;
      d.luks = {
        label: argv[argv.indexOf("--label") + 1] ?? "",
        subsystem: argv[argv.indexOf("--subsystem") + 1] ?? "",
        cipher: argv[argv.indexOf("--cipher") + 1] ?? "",
        uuid: "11111111-2222-3333-4444-555555555555",
        slots: [{ key: o.stdin ?? "", memory: Number(argv[argv.indexOf("--pbkdf-memory") + 1]) }],
      };
      devices.delete(`mapper:${last(argv)}`);
      return {};
    })
    .on(["cryptsetup", "luksAddKey"], (argv, o) => {
      const [existing, added] = (o.stdin ?? "").split("\n");
      if (!opens(last(argv), existing)) return { code: 2 };
      const memory = options.slotMemory ?? Number(argv[argv.indexOf("--pbkdf-memory") + 1]);
      dev(last(argv)).luks?.slots.push({ key: added ?? "", memory });
      return {};
    })
    .on(["cryptsetup", "luksHeaderBackup"], (argv) => {
      const file = argv[argv.indexOf("--header-backup-file") + 1] ?? "";
      if (host.files.has(file)) return { code: 1 };
      host.files.set(file, { content: "header", mode: 0o400 });
      return {};
    })
    .on(["cryptsetup", "open", "--type", "luks2"], (argv, o) => {
      const path = argv.at(-2) ?? "";
      if (!opens(path, o.stdin)) return { code: 2 };
      state.mapperOf = path;
      host.present.add(MAPPER_PATH);
      return {};
    })
    .on(["cryptsetup", "luksDump", "--dump-json-metadata", "--"], (argv) => {
      const l = devices.get(last(argv))?.luks;
      if (!l) return { code: 1 };
      const keyslots = Object.fromEntries(
        l.slots.map((s, i) => [
          String(i),
          { type: "luks2", kdf: { type: "argon2id", memory: s.memory, cpus: 2 } },
        ]),
      );
      return {
        stdout: JSON.stringify({ keyslots, segments: { "0": { type: "crypt", encryption: l.cipher } } }),
      };
    })
    .on(["mkfs.ext4"], (argv) => {
      const path = last(argv);
      const key = path === MAPPER_PATH ? `mapper:${state.mapperOf}` : path;
      const d = dev(key);
      d.luks = undefined;
      d.fs = { type: "ext4", label: "freehold-data", uuid: "99999999-8888-7777-6666-555555555555" };
      return {};
    })
    .on(["wipefs", "--all", "--"], (argv) => {
      devices.delete(last(argv));
      return {};
    })
    .on(["findmnt"], () => {
      const m = state.mounted;
      return m ? { stdout: `${m.source} ${m.fstype} ${m.uuid}\n` } : { code: 1 };
    })
    .on(["systemctl", "is-enabled"], () => ({ code: state.enabled ? 0 : 1 }))
    .on(["systemctl", "enable"], () => {
      state.enabled = true;
      return {};
    })
    .on(["systemctl", "start", "--", "srv-freehold.mount"], () => {
      const what = /^What=(.*)$/m.exec(
        host.files.get("/etc/systemd/system/srv-freehold.mount")?.content ?? "",
      )?.[1];
      if (what === MAPPER_PATH) {
        const fs = devices.get(`mapper:${state.mapperOf}`)?.fs;
        if (!host.present.has(MAPPER_PATH) || !fs) return { code: 1 };
        state.mounted = { source: MAPPER_PATH, fstype: fs.type, uuid: fs.uuid };
      } else {
        const entry = [...devices.entries()].find(([, d]) => what === `/dev/disk/by-uuid/${d.fs?.uuid}`);
        if (!entry?.[1].fs) return { code: 1 };
        state.mounted = { source: "/dev/sda3", fstype: entry[1].fs.type, uuid: entry[1].fs.uuid };
      }
      return {};
    });
  return { host, state, dev };
}
