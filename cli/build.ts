// Builds the npm package of the CLI (cli/package.json): one ES module, cli/dist/benchwatch.mjs,
// with the CLI's sources, the functions' shared zod schemas and its npm dependencies (commander,
// zod, @supabase/functions-js) bundled in, so the package has no dependencies to install and no
// TypeScript runtime (tsx) to load. The licenses of what it bundles go beside it in
// THIRD_PARTY_LICENSES.md.
//
// esbuild (pinned in the root package.json) rather than tsc: tsc would leave the imports of
// ../../supabase/functions/_shared and of the dependencies to resolve at run time.
//
//   node --import tsx cli/build.ts     (npm run build:cli)
//
// cli/dist is committed: the GitHub Action (action.yml) runs cli/dist/benchwatch.mjs from its
// own checkout, with nothing to install. cli/test/bundle.test.ts builds into a temporary
// directory (buildCli(dir)) and fails when the committed files differ from that build by a byte.

import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const CLI = dirname(fileURLToPath(import.meta.url));
const DIST = join(CLI, "dist");

/** The Node release the bundle targets; action.yml refuses an older `node` with this number. */
export const NODE_MAJOR = 20;

/** The package a bundled file came from ("zod", "@supabase/functions-js"), or null for ours. */
function packageOf(path: string): string | null {
  const m = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  return m ? m[1] : null;
}

/**
 * Builds benchwatch.mjs and THIRD_PARTY_LICENSES.md into `dist` (emptied first), by default
 * cli/dist. The output depends on the sources and node_modules only, not on `dist`'s path.
 */
export async function buildCli(
  dist: string = DIST,
): Promise<{ file: string; bytes: number; packages: string[] }> {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const file = join(dist, "benchwatch.mjs");
  const result = await build({
    entryPoints: [join(CLI, "src", "bin.ts")],
    outfile: file,
    bundle: true,
    platform: "node",
    format: "esm",
    target: `node${NODE_MAJOR}`,
    metafile: true,
    legalComments: "none",
    // Minified: a third of the size; the CLI's errors are its own messages, not stack traces.
    minify: true,
    // commander is CommonJS and require()s node builtins, which an ES module must provide.
    banner: {
      js: '#!/usr/bin/env node\nimport { createRequire } from "node:module";\n' +
        "const require = createRequire(import.meta.url);",
    },
    // The dashboard is served from a checkout only (its build needs vite); the package says so.
    define: { BENCHWATCH_PACKAGE: "true" },
    external: ["*/dashboard/build.ts"],
    logLevel: "warning",
  });
  const packages = [
    ...new Set(Object.keys(result.metafile.inputs).map(packageOf).filter((p) => p !== null)),
  ].sort() as string[];
  const licenses = packages.map((p) => {
    const dir = resolve(CLI, "..", "node_modules", p);
    const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const name = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"].find((n) =>
      existsSync(join(dir, n))
    );
    if (!name) throw new Error(`Cannot bundle ${p}: it has no LICENSE file to ship with it`);
    return `## ${p} ${meta.version} (${meta.license})\n\n${
      readFileSync(join(dir, name), "utf8").trim()
    }\n`;
  });
  writeFileSync(
    join(dist, "THIRD_PARTY_LICENSES.md"),
    `# Bundled in benchwatch.mjs\n\n${licenses.join("\n")}`,
  );
  return { file, bytes: readFileSync(file).length, packages };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { file, bytes, packages } = await buildCli();
  console.log(
    `built ${file.slice(resolve(CLI, "..").length + 1)} (${(bytes / 1024).toFixed(0)} KiB; ` +
      `bundles ${packages.join(", ")})`,
  );
}
