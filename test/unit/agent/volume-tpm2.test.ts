import { describe, expect, it } from "vitest";
import { VOLUME_RECORD } from "../../../app/agent/ops/data-volume";
import { HEADER_BACKUP, luksProblems } from "../../../app/agent/ops/luks";
import { confContent, TPM_DEVICE, TPM2_UNLOCK_CONF, volumeTpm2 } from "../../../app/agent/ops/volume-tpm2";
import { RecordingHost } from "./recording-host";

const DEV = "/dev/disk/by-uuid/11111111-2222-3333-4444-555555555555";
const PASS = "a long disk passphrase";
const input = { passphrase: { secret: "disk.passphrase" as const }, pcrs: [7] };
const SOCKET = RecordingHost.SECRET_SOCKET;
/** How many times the op asked the TPM to unseal the volume's key (cryptsetup's token-only test). */
const unseals = (host: RecordingHost) =>
  host.lines().filter((l) => l.startsWith("cryptsetup open --test-passphrase --token-only")).length;

/**
 * An encrypted volume with two typed key slots; `tokens` stands for the header's TPM2 tokens, which
 * systemd-cryptenroll adds (with a key slot) and wipes, and which `tpmOpens` says the TPM unseals.
 */
function machine(opts: { tpm?: boolean; tokens?: number[][]; tpmOpens?: boolean } = {}) {
  const state = {
    tokens: [...(opts.tokens ?? [])],
    tpmOpens: opts.tpmOpens ?? true,
    /** What the last served socket carried (the key systemd-cryptenroll would read). */
    served: null as string | null,
  };
  const host = new RecordingHost({ "disk.passphrase": PASS });
  const serve = host.serveSecret.bind(host);
  host.serveSecret = (secret, use) => {
    state.served = secret;
    return serve(secret, use);
  };
  host.file(VOLUME_RECORD, `${JSON.stringify({ device: DEV, encrypted: true })}\n`);
  if (opts.tpm ?? true) host.present.add(TPM_DEVICE);
  host
    .on(["cryptsetup", "isLuks", "--"], { code: 0 })
    .on(["blkid"], { stdout: "LABEL=freehold-data\nSUBSYSTEM=freehold\nUUID=1111\nTYPE=crypto_LUKS\n" })
    .on(["cryptsetup", "luksDump"], () => {
      const keyslots: Record<string, unknown> = {
        "0": { type: "luks2", kdf: { type: "argon2id", memory: 262144 } },
        "1": { type: "luks2", kdf: { type: "argon2id", memory: 262144 } },
      };
      const tokens: Record<string, unknown> = {};
      state.tokens.forEach((pcrs, i) => {
        keyslots[String(2 + i)] = { type: "luks2", kdf: { type: "pbkdf2" } };
        tokens[String(i)] = { type: "systemd-tpm2", keyslots: [String(2 + i)], "tpm2-pcrs": pcrs };
      });
      return {
        stdout: JSON.stringify({ keyslots, tokens, segments: { "0": { encryption: "aes-xts-plain64" } } }),
      };
    })
    .on(["cryptsetup", "open", "--test-passphrase", "--token-only"], () => ({
      code: state.tokens.length > 0 && state.tpmOpens ? 0 : 1,
    }))
    .on(["systemd-cryptenroll", `--unlock-key-file=${SOCKET}`, "--tpm2-device=auto"], (argv) => {
      if (state.served !== PASS) return { code: 1, stderr: "Failed to unlock disk: wrong passphrase" };
      const pcrs = argv.find((a) => a.startsWith("--tpm2-pcrs="))?.slice(12) ?? "";
      state.tokens.push(pcrs.split("+").map(Number));
      state.tpmOpens = true;
      return { code: 0 };
    })
    .on(["systemd-cryptenroll", `--unlock-key-file=${SOCKET}`, "--wipe-slot=tpm2"], () => {
      state.tokens = [];
      return { code: 0 };
    });
  return { host, state };
}

describe("volume.tpm2", () => {
  it("seals a key to PCR 7 with the passphrase served on a socket, backs up the header and sets up the boot unlock", async () => {
    const { host, state } = machine();
    const outcome = await volumeTpm2.run(input, { "disk.passphrase": PASS }, host);
    expect(outcome).toMatchObject({ changed: true, verified: true, detail: { pcrs: "7" } });
    expect(state.tokens).toEqual([[7]]);
    // The passphrase reaches systemd-cryptenroll through a one-shot socket, never argv or stdin.
    expect(host.lines().filter((l) => l.startsWith("serve") || l.startsWith("systemd-cryptenroll"))).toEqual([
      "serve disk.passphrase",
      `systemd-cryptenroll --unlock-key-file=${SOCKET} --tpm2-device=auto --tpm2-pcrs=7 -- ${DEV}`,
    ]);
    expect(host.lines()).toContain(
      `cryptsetup luksHeaderBackup --header-backup-file ${HEADER_BACKUP} -- ${DEV}`,
    );
    expect(host.files.get(TPM2_UNLOCK_CONF)?.content).toBe(confContent(DEV));
    // Nothing to ask the TPM before enrolling; after, it must unseal the new key to verify it.
    expect(unseals(host)).toBe(1);
    const enrol = host.lines().findIndex((l) => l.startsWith("systemd-cryptenroll"));
    const unseal = host.lines().findIndex((l) => l.startsWith("cryptsetup open --test-passphrase"));
    expect(unseal).toBeGreaterThan(enrol);
    host.expectNoLeaks();
  });

  it("changes nothing when a token sealed to the wanted PCRs opens the volume", async () => {
    const { host } = machine({ tokens: [[7]] });
    host.file(HEADER_BACKUP, "header");
    host.file(TPM2_UNLOCK_CONF, confContent(DEV));
    const outcome = await volumeTpm2.run(input, { "disk.passphrase": PASS }, host);
    expect(outcome).toMatchObject({ changed: false, verified: true });
    expect(host.lines().some((l) => l.startsWith("systemd-cryptenroll"))).toBe(false);
    expect(host.calls.some((c) => c.writes)).toBe(false);
    // The TPM is asked once: what it answered when observed verifies the slot it left as it was.
    expect(unseals(host)).toBe(1);
  });

  it("asks the TPM once when it only redoes the header backup and the boot unlock file", async () => {
    const { host } = machine({ tokens: [[7]] });
    const outcome = await volumeTpm2.run(input, { "disk.passphrase": PASS }, host);
    expect(outcome).toMatchObject({
      changed: true,
      verified: true,
      detail: { actions: "header backup, boot unlock" },
    });
    expect(unseals(host)).toBe(1);
  });

  it("asks the TPM again after replacing a slot it no longer opened, to verify the new one", async () => {
    // Observed: the TPM refuses; replaced and enrolled: asked again to verify the new slot.
    const { host } = machine({ tokens: [[7]], tpmOpens: false });
    const outcome = await volumeTpm2.run(input, { "disk.passphrase": PASS }, host);
    expect(outcome).toMatchObject({ changed: true, verified: true });
    expect(unseals(host)).toBe(2);
  });

  it("replaces a token sealed to other PCRs, or one the TPM no longer opens", async () => {
    for (const start of [{ tokens: [[0, 7]] }, { tokens: [[7]], tpmOpens: false }]) {
      const { host, state } = machine(start);
      const outcome = await volumeTpm2.run(input, { "disk.passphrase": PASS }, host);
      expect(outcome, JSON.stringify(start)).toMatchObject({ changed: true, verified: true });
      const cryptenroll = host.lines().filter((l) => l.startsWith("systemd-cryptenroll"));
      expect(cryptenroll).toEqual([
        `systemd-cryptenroll --unlock-key-file=${SOCKET} --wipe-slot=tpm2 -- ${DEV}`,
        `systemd-cryptenroll --unlock-key-file=${SOCKET} --tpm2-device=auto --tpm2-pcrs=7 -- ${DEV}`,
      ]);
      expect(state.tokens).toEqual([[7]]);
    }
  });

  it("reports unverified when the TPM does not open the volume after enrolling", async () => {
    const { host, state } = machine();
    host.on(["cryptsetup", "open", "--test-passphrase", "--token-only"], { code: 1 });
    const outcome = await volumeTpm2.run(input, { "disk.passphrase": PASS }, host);
    expect(state.tokens).toHaveLength(1);
    expect(outcome).toMatchObject({
      verified: false,
      detail: { problems: "the TPM does not open the volume" },
    });
  });

  it("says what to do on a box without a TPM, and touches nothing", async () => {
    const { host } = machine({ tpm: false });
    const run = volumeTpm2.run(input, { "disk.passphrase": PASS }, host);
    await expect(run).rejects.toThrow("this box has no TPM 2.0 (/dev/tpmrm0 is missing)");
    await expect(run).rejects.toHaveProperty("hint", expect.stringContaining("firmware settings"));
    expect(host.calls).toEqual([]);
  });

  it("names systemd-cryptenroll's reason when enrolling fails (a changed passphrase)", async () => {
    const { host } = machine();
    const run = volumeTpm2.run(input, { "disk.passphrase": "not the passphrase" }, host);
    await expect(run).rejects.toThrow(/could not enroll the TPM: Failed to unlock disk: wrong passphrase/);
  });
});

describe("the volume check with a TPM slot", () => {
  const typed = { kdf: "argon2id", memory: 262144 };
  const base = { ciphers: ["aes-xts-plain64"], label: "freehold-data", subsystem: "freehold", uuid: "u" };
  const AES = { cipher: "aes-xts-plain64", keySize: 512 } as const;

  it("counts only the typed key slots: the TPM's PBKDF2 slot belongs to its token", () => {
    const keyslots = [
      { id: "0", ...typed },
      { id: "1", ...typed },
      { id: "2", kdf: "pbkdf2", memory: null },
    ];
    const tokens = [{ type: "systemd-tpm2", keyslots: ["2"], pcrs: [7] }];
    expect(luksProblems({ ...base, keyslots, tokens }, AES)).toEqual([]);
    // The same third slot without a token is a stray key: reported.
    expect(luksProblems({ ...base, keyslots, tokens: [] }, AES)).toEqual(["3 key slots", "kdf pbkdf2"]);
  });
});
