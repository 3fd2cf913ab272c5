import { describe, expect, it } from "vitest";
import { disksFromLsblk } from "../../app/lib/hardware/disks";

// Shaped like `lsblk --json --bytes -o NAME,PATH,TYPE,SIZE,MODEL,TRAN,RM,MOUNTPOINTS` on a Pi 4
// booted from an SD card with a USB SSD attached, plus the devices that are not disks.
const pi = {
  blockdevices: [
    {
      name: "loop0",
      path: "/dev/loop0",
      type: "loop",
      size: 1000,
      model: null,
      tran: null,
      rm: false,
      mountpoints: [null],
    },
    {
      name: "sda",
      path: "/dev/sda",
      type: "disk",
      size: 1000204886016,
      model: "Samsung SSD 870 ",
      tran: "usb",
      rm: false,
      mountpoints: [null],
      children: [{ name: "sda1", path: "/dev/sda1", type: "part", size: 1000203837440, mountpoints: [null] }],
    },
    {
      name: "mmcblk0",
      path: "/dev/mmcblk0",
      type: "disk",
      size: 31914983424,
      model: null,
      tran: null,
      rm: true,
      mountpoints: [null],
      children: [
        {
          name: "mmcblk0p1",
          path: "/dev/mmcblk0p1",
          type: "part",
          size: 536870912,
          mountpoints: ["/boot/firmware"],
        },
        { name: "mmcblk0p2", path: "/dev/mmcblk0p2", type: "part", size: 4294967296, mountpoints: ["/"] },
      ],
    },
    {
      name: "zram0",
      path: "/dev/zram0",
      type: "disk",
      size: 1000,
      model: null,
      tran: null,
      rm: false,
      mountpoints: ["[SWAP]"],
    },
    {
      name: "nvme0n1",
      path: "/dev/nvme0n1",
      type: "disk",
      size: 512110190592,
      model: "WD Blue",
      tran: "nvme",
      rm: "0",
    },
  ],
};

describe("disksFromLsblk", () => {
  it("keeps whole disks, classifies them and finds the one holding /", () => {
    expect(disksFromLsblk(pi)).toEqual([
      {
        path: "/dev/sda",
        model: "Samsung SSD 870",
        sizeBytes: 1000204886016,
        kind: "usb",
        removable: false,
        system: false,
      },
      {
        path: "/dev/mmcblk0",
        model: null,
        sizeBytes: 31914983424,
        kind: "sd",
        removable: true,
        system: true,
      },
      {
        path: "/dev/nvme0n1",
        model: "WD Blue",
        sizeBytes: 512110190592,
        kind: "nvme",
        removable: false,
        system: false,
      },
    ]);
  });

  it("rejects output that is not lsblk's", () => {
    expect(() => disksFromLsblk({ devices: [] })).toThrow(/blockdevices/);
  });
});
