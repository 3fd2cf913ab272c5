#!/usr/bin/env node
// The `freehold` command. Its source is TypeScript; tsx compiles it on the fly.
import { register } from "tsx/esm/api";

register();
await import("./cli.ts");
