import { describe, expect, it } from "vitest";
import { checkStorageChoice, storageDisksFromLsblk } from "../../../app/lib/storage/disks";

const lsblk = {
  blockdevices: [
    {
      name: "mmcblk0",
      path: "/dev/mmcblk0",
      type: "disk",
      size: 32e9,
      model: null,
      tran: null,
      rm: false,
      mountpoints: [null],
      pttype: "dos",
      fstype: null,
      partlabel: null,
      label: null,
      children: [
        {
          name: "mmcblk0p1",
          path: "/dev/mmcblk0p1",
          type: "part",
          size: 5e8,
          mountpoints: ["/boot/firmware"],
          fstype: "vfat",
          pttype: "dos",
        },
        {
          name: "mmcblk0p2",
          path: "/dev/mmcblk0p2",
          type: "part",
          size: 8e9,
          mountpoints: ["/"],
          fstype: "ext4",
          pttype: "dos",
        },
      ],
    },
    {
      name: "sda",
      path: "/dev/sda",
      type: "disk",
      size: 1e12,
      model: "Samsung SSD",
      tran: "usb",
      rm: false,
      mountpoints: [null],
      pttype: null,
      fstype: null,
    },
    {
      name: "sdb",
      path: "/dev/sdb",
      type: "disk",
      size: 2e12,
      model: "WD Elements",
      tran: "usb",
      rm: true,
      mountpoints: [null],
      pttype: "gpt",
      fstype: null,
      children: [
        {
          name: "sdb1",
          path: "/dev/sdb1",
          type: "part",
          size: 2e12,
          mountpoints: [null],
          fstype: "ntfs",
          label: "Photos",
          partlabel: null,
        },
      ],
    },
    {
      name: "nvme0n1",
      path: "/dev/nvme0n1",
      type: "disk",
      size: 5e11,
      model: "Fresh",
      tran: "nvme",
      rm: false,
      mountpoints: [null],
      pttype: "gpt",
      fstype: null,
      children: [
        {
          name: "nvme0n1p1",
          path: "/dev/nvme0n1p1",
          type: "part",
          size: 5e11,
          mountpoints: [null],
          fstype: null,
          partlabel: "freehold-data",
        },
      ],
    },
    { name: "zram0", path: "/dev/zram0", type: "disk", size: 0, mountpoints: [null] },
  ],
};

describe("the storage step's view of the disks", () => {
  const disks = storageDisksFromLsblk(lsblk);
  it("says what each disk holds", () => {
    expect(disks.map((d) => [d.name, d.contents, d.system])).toEqual([
      ["mmcblk0", "data", true],
      ["sda", "blank", false],
      ["sdb", "data", false],
      ["nvme0n1", "ours", false],
    ]);
    expect(disks[2]?.summary).toBe('GPT partition table, 1 partition, filesystems: ntfs "Photos"');
  });

  it("accepts a blank disk or our empty data partition without a typed confirmation", () => {
    expect(checkStorageChoice({ disk: "/dev/sda", confirmErase: "" }, disks)).toMatchObject({
      ok: true,
      erase: false,
    });
    expect(checkStorageChoice({ disk: "/dev/nvme0n1", confirmErase: "" }, disks)).toMatchObject({
      ok: true,
      erase: false,
    });
    expect(checkStorageChoice({ disk: "system", confirmErase: "" }, disks)).toMatchObject({
      ok: true,
      disk: "system",
    });
  });

  it("erases a disk holding data only after its name is typed exactly", () => {
    for (const typed of ["", "sdb ", "SDB", "/dev/sdb", "sda"]) {
      const r = checkStorageChoice({ disk: "/dev/sdb", confirmErase: typed }, disks);
      if (typed.trim() === "sdb") expect(r.ok).toBe(true);
      else
        expect(r).toMatchObject({
          ok: false,
          fields: { confirmErase: [expect.stringContaining("Type sdb")] },
        });
    }
    expect(checkStorageChoice({ disk: "/dev/sdb", confirmErase: "sdb" }, disks)).toMatchObject({
      ok: true,
      erase: true,
    });
  });

  it("never offers the system disk or a disk that is not attached", () => {
    expect(checkStorageChoice({ disk: "/dev/mmcblk0", confirmErase: "mmcblk0" }, disks).ok).toBe(false);
    expect(checkStorageChoice({ disk: "/dev/sdz", confirmErase: "sdz" }, disks).ok).toBe(false);
  });
});
