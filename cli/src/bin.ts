// The entry point of the npm package's bundle (cli/build.ts): the same main() that
// cli/bin/benchwatch.mjs runs through tsx in a checkout.

import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
