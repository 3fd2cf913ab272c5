// Types for the two systeminformation modules detect.ts imports directly (the package types only its
// index); the functions are the index's own, re-exported from where they are defined.
declare module "systeminformation/lib/cpu.js" {
  export { cpu } from "systeminformation";
}
declare module "systeminformation/lib/memory.js" {
  export { mem } from "systeminformation";
}
