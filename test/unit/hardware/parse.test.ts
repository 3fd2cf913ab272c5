import { describe, expect, it } from "vitest";
import {
  boardFromDeviceTree,
  boardFromDmi,
  cleanText,
  cpuFlagsFromCpuinfo,
  gpuFromDrm,
  gpusFromNvidiaSmi,
  mergeGpus,
  mhzFromCpufreq,
  plausibleMhz,
} from "../../../app/lib/hardware/parse";

// Captured text: /proc/device-tree/* end with NUL; /proc/cpuinfo excerpts as the kernel prints them.
const PI4_CPUINFO = `processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd08
CPU revision\t: 3

Revision\t: d03115
Serial\t\t: 10000000a1b2c3d4
Model\t\t: Raspberry Pi 4 Model B Rev 1.5
`;
const PI5_CPUINFO = `processor\t: 0
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer\t: 0x41
CPU part\t: 0xd0b
`;
const N100_CPUINFO = `processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) N100
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf tsc_known_freq pni pclmulqdq dtes64 monitor ds_cpl vmx est tm2 ssse3 sdbg fma cx16 xtpr pdcm sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb cat_l2 cdp_l2 ssbd ibrs ibpb stibp ibrs_enhanced tpr_shadow flexpriority ept vpid ept_ad fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid rdt_a rdseed adx smap clflushopt clwb intel_pt sha_ni xsaveopt xsavec xgetbv1 xsaves split_lock_detect avx_vnni dtherm ida arat pln pts hwp hwp_notify hwp_act_window hwp_epp hwp_pkg_req vnmi umip pku ospke waitpkg gfni vaes vpclmulqdq rdpid movdiri movdir64b fsrm md_clear serialize arch_lbr ibt flush_l1d arch_capabilities
`;

describe("boardFromDeviceTree", () => {
  it("reads Raspberry Pi models and revisions", () => {
    expect(boardFromDeviceTree("Raspberry Pi 4 Model B Rev 1.4\0")).toEqual({
      vendor: "Raspberry Pi",
      model: "Raspberry Pi 4 Model B",
      revision: "1.4",
    });
    expect(
      boardFromDeviceTree("Raspberry Pi 5 Model B Rev 1.0\0", "raspberrypi,5-model-b\0brcm,bcm2712\0"),
    ).toEqual({
      vendor: "Raspberry Pi",
      model: "Raspberry Pi 5 Model B",
      revision: "1.0",
    });
    expect(boardFromDeviceTree("Raspberry Pi Compute Module 4 Rev 1.1\0")?.model).toBe(
      "Raspberry Pi Compute Module 4",
    );
  });

  it("takes other boards' vendor from the compatible list, and invents no revision", () => {
    expect(boardFromDeviceTree("Radxa ROCK 5B\0", "radxa,rock-5b\0rockchip,rk3588\0")).toEqual({
      vendor: "radxa",
      model: "Radxa ROCK 5B",
      revision: null,
    });
    expect(boardFromDeviceTree("\0")).toBeNull();
  });
});

describe("boardFromDmi", () => {
  it("uses the product name and drops OEM placeholders", () => {
    expect(
      boardFromDmi({ sysVendor: "AZW\n", productName: "EQ12\n", productVersion: "Default string\n" }),
    ).toEqual({
      vendor: "AZW",
      model: "EQ12",
      revision: null,
    });
    expect(
      boardFromDmi({
        sysVendor: "To Be Filled By O.E.M.",
        productName: "To Be Filled By O.E.M.",
        boardVendor: "ASRock",
        boardName: "B450M Pro4",
      }),
    ).toEqual({ vendor: "ASRock", model: "B450M Pro4", revision: null });
    expect(boardFromDmi({})).toBeNull();
  });
});

describe("cpuFlagsFromCpuinfo", () => {
  it("finds the features that matter on a Pi 4, a Pi 5 and an N100", () => {
    expect(cpuFlagsFromCpuinfo(PI4_CPUINFO)).toEqual(["asimd"]);
    expect(cpuFlagsFromCpuinfo(PI5_CPUINFO)).toEqual(["aes", "asimd", "asimddp"]);
    expect(cpuFlagsFromCpuinfo(N100_CPUINFO)).toEqual(["aes", "avx", "avx2"]);
    expect(cpuFlagsFromCpuinfo("")).toEqual([]);
  });
});

describe("plausibleMhz", () => {
  it("keeps real clock rates and turns a VM's miscalibrated one into unknown", () => {
    expect(plausibleMhz(2400)).toBe(2400);
    expect(plausibleMhz(1799.6)).toBe(1800);
    // QEMU TCG on a loaded host calibrates its TSC against a timer and can report anything.
    expect(plausibleMhz(15_840)).toBeNull();
    expect(plausibleMhz(12)).toBeNull();
    expect(plausibleMhz(null)).toBeNull();
  });
});

describe("mhzFromCpufreq", () => {
  it("converts kHz and refuses nonsense", () => {
    expect(mhzFromCpufreq("2400000\n")).toBe(2400);
    expect(mhzFromCpufreq("")).toBeNull();
    expect(mhzFromCpufreq("garbage")).toBeNull();
  });
});

describe("gpusFromNvidiaSmi", () => {
  it("parses one row per GPU with VRAM in MiB and the PCI id", () => {
    const csv = "NVIDIA GeForce RTX 3060, 12288, 0x250410DE\nNVIDIA H100 PCIe, 81559, 0x233110DE\n";
    expect(gpusFromNvidiaSmi(csv)).toEqual([
      {
        vendor: "nvidia",
        model: "NVIDIA GeForce RTX 3060",
        vramBytes: 12288 * 1024 * 1024,
        pciId: "10de:2504",
        source: "nvidia-smi",
        memoryBandwidthBytesPerSecond: null,
      },
      {
        vendor: "nvidia",
        model: "NVIDIA H100 PCIe",
        vramBytes: 81559 * 1024 * 1024,
        pciId: "10de:2331",
        source: "nvidia-smi",
        memoryBandwidthBytesPerSecond: null,
      },
    ]);
  });

  it("reports [N/A] memory as unknown and rejects text that is not its CSV", () => {
    expect(gpusFromNvidiaSmi("NVIDIA GH200, [N/A], 0x234210DE")[0]?.vramBytes).toBeNull();
    expect(() =>
      gpusFromNvidiaSmi("NVIDIA-SMI has failed because it couldn't communicate with the driver"),
    ).toThrow();
    expect(gpusFromNvidiaSmi("")).toEqual([]);
  });
});

describe("gpuFromDrm", () => {
  it("reads an AMD card's VRAM and knows an Intel iGPU has none of its own", () => {
    expect(
      gpuFromDrm({
        card: "card0",
        vendor: "0x1002\n",
        device: "0x73df\n",
        memInfoVramTotal: "12868124672\n",
        driver: "amdgpu",
      }),
    ).toMatchObject({ vendor: "amd", vramBytes: 12868124672, pciId: "1002:73df", source: "drm" });
    expect(
      gpuFromDrm({ card: "card1", vendor: "0x8086\n", device: "0x46d1\n", driver: "i915" }),
    ).toMatchObject({
      vendor: "intel",
      model: null,
      vramBytes: null,
      pciId: "8086:46d1",
    });
  });

  it("names the Pi's VideoCore and skips display-only platform devices", () => {
    expect(gpuFromDrm({ card: "card0", driver: "v3d" })).toMatchObject({
      vendor: "broadcom",
      vramBytes: null,
    });
    expect(gpuFromDrm({ card: "card1", driver: "vc4-drm" })).toBeNull();
  });

  it("lets nvidia-smi's view replace drm's for NVIDIA cards", () => {
    const smi = gpusFromNvidiaSmi("NVIDIA GeForce RTX 3060, 12288, 0x250410DE");
    const drm = [
      gpuFromDrm({ card: "card0", vendor: "0x10de", device: "0x2504", driver: "nvidia" }),
      gpuFromDrm({ card: "card1", vendor: "0x8086", device: "0x4680", driver: "i915" }),
    ].filter((g) => g !== null);
    expect(mergeGpus(smi, drm).map((g) => [g.vendor, g.source])).toEqual([
      ["nvidia", "nvidia-smi"],
      ["intel", "drm"],
    ]);
    expect(mergeGpus([], drm).map((g) => g.vendor)).toEqual(["nvidia", "intel"]);
  });
});

describe("cleanText", () => {
  it("removes terminal escapes and control characters from firmware strings", () => {
    expect(cleanText("Evil\u001b[31m Board\u0007\n")).toBe("Evil [31m Board");
  });
});
