import { z } from "zod";

/**
 * `lsblk --json --bytes --output ...`: one schema for every caller. Columns a caller did not ask
 * for are simply absent, so all but the identifying ones are optional.
 */
export interface LsblkDevice {
  name: string;
  path: string;
  type: string;
  size: number | null;
  model?: string | null;
  tran?: string | null;
  rm?: boolean | string | null;
  mountpoints?: (string | null)[] | null;
  pttype?: string | null;
  fstype?: string | null;
  partlabel?: string | null;
  label?: string | null;
  children?: LsblkDevice[];
}

export const LsblkDeviceSchema: z.ZodType<LsblkDevice> = z.lazy(() =>
  z.object({
    name: z.string(),
    path: z.string(),
    type: z.string(),
    size: z.coerce.number().nullable(),
    model: z.string().nullable().optional(),
    tran: z.string().nullable().optional(),
    rm: z.union([z.boolean(), z.string()]).nullable().optional(),
    mountpoints: z.array(z.string().nullable()).nullable().optional(),
    pttype: z.string().nullable().optional(),
    fstype: z.string().nullable().optional(),
    partlabel: z.string().nullable().optional(),
    label: z.string().nullable().optional(),
    children: z.array(LsblkDeviceSchema).optional(),
  }),
);

export const LsblkSchema = z.object({ blockdevices: z.array(LsblkDeviceSchema) });
