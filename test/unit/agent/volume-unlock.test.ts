import { describe, expect, it } from "vitest";
import { MAPPER_PATH } from "../../../app/agent/ops/luks";
import { volumeEncrypt } from "../../../app/agent/ops/volume-encrypt";
import { volumeStatus } from "../../../app/agent/ops/volume-status";
import { volumeUnlock } from "../../../app/agent/ops/volume-unlock";
import { PART, PASS, RECOVERY, SECRETS, volumeMachine } from "./volume-machine";

const input = {
  device: "system" as const,
  erase: false,
  encrypt: true,
  passphrase: { secret: "disk.passphrase" as const },
  recoveryKey: { secret: "disk.recoveryKey" as const },
  mountpoint: "/srv/freehold" as const,
};
const UUID_DEV = "/dev/disk/by-uuid/11111111-2222-3333-4444-555555555555";

/** A box with the encrypted volume made, then rebooted: mapper closed, nothing mounted. */
async function rebooted() {
  const m = volumeMachine();
  m.host.present.add(PART);
  await volumeEncrypt.run(input, SECRETS, m.host);
  // udev names the LUKS volume by UUID too.
  for (const [from, to] of [
    [PART, UUID_DEV],
    [`mapper:${PART}`, `mapper:${UUID_DEV}`],
  ]) {
    const d = m.state.devices.get(from ?? "");
    if (d && to) m.state.devices.set(to, d);
  }
  m.host.present.delete(MAPPER_PATH);
  m.state.mounted = null;
  m.host.reset();
  return m;
}

describe("volume.unlock and volume.status", () => {
  it("status says absent before any volume exists", async () => {
    const { host } = volumeMachine();
    expect((await volumeStatus.run({}, {}, host)).detail).toMatchObject({ state: "absent" });
  });

  it("after a reboot: locked; the wrong passphrase is refused with a hint; the right one unlocks", async () => {
    const { host } = await rebooted();
    expect((await volumeStatus.run({}, {}, host)).detail).toMatchObject({ state: "locked", encrypted: true });

    const wrong = volumeUnlock.run({}, { "disk.passphrase": "not it" }, host);
    await expect(wrong).rejects.toThrow("the passphrase does not open freehold-data");
    await expect(wrong).rejects.toHaveProperty("hint", expect.stringContaining("recovery key"));

    host.reset();
    expect(await volumeUnlock.run({}, { "disk.passphrase": PASS }, host)).toMatchObject({
      changed: true,
      verified: true,
      detail: { state: "unlocked" },
    });
    expect(host.lines()).toEqual([
      `cryptsetup open --type luks2 --key-file - -- ${UUID_DEV} freehold-data`,
      "findmnt -n -o SOURCE,FSTYPE,UUID -- /srv/freehold",
      "systemctl start -- srv-freehold.mount",
      "findmnt -n -o SOURCE,FSTYPE,UUID -- /srv/freehold",
    ]);
    expect(host.calls[0]?.stdin).toEqual({ secret: "disk.passphrase" });
    host.expectNoLeaks();
    expect((await volumeStatus.run({}, {}, host)).detail).toMatchObject({ state: "unlocked" });

    host.reset();
    expect(await volumeUnlock.run({}, { "disk.passphrase": PASS }, host)).toMatchObject({
      changed: false,
      verified: true,
    });
  });

  it("the recovery key unlocks too", async () => {
    const { host } = await rebooted();
    expect(await volumeUnlock.run({}, { "disk.passphrase": RECOVERY }, host)).toMatchObject({
      verified: true,
    });
  });
});
