#!/usr/bin/env node
// The benchwatch CLI. Its source is TypeScript (cli/src), run through tsx so that
// `npx benchwatch` works straight from a checkout after `npm install`, with no build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv.slice(2));
