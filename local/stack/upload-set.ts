// Which files `supabase functions deploy` uploads for a function, computed the way the CLI
// computes them (supabase/cli, apps/cli-go/pkg/function/deploy.go `writeForm` and deno.go
// `WalkImportPaths`), so the deploy rehearsal starts each function from exactly that set:
//
// - the import map named by config.toml's `import_map` (a deno.json is read for its
//   "imports"; one that only points elsewhere with "importMap" is followed);
// - the entry point, then every file reachable from it through `import` / `export ... from`
//   / `import()` specifiers that, after the import map's prefix substitution, are relative
//   ("./", "../") or absolute paths with a file extension. `npm:`, `jsr:`, URLs and bare
//   names are left to the runtime to fetch, never uploaded.
//
// Nothing else goes: no node_modules, no package.json, no lock file, no tests.

import { parse as parseToml } from "smol-toml";

export interface FunctionDeployConfig {
  name: string;
  /** Relative to the project root, with forward slashes, as the CLI sends it. */
  entrypoint: string;
  importMap: string;
  verifyJwt: boolean;
}

// The CLI's pattern, unchanged in meaning: a `from` clause or a dynamic import.
const IMPORT_PATH =
  /(?:import|export)\s+(?:type\s+)?(?:{[^{}]+}|.*?)\s*(?:from)?\s*['"](.*?)['"]|import\(\s*['"](.*?)['"]\)/gi;

function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return (path.startsWith("/") ? "/" : "") + out.join("/");
}

const dirname = (p: string): string => p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : ".";
const extname = (p: string): string => {
  const base = p.slice(p.lastIndexOf("/") + 1);
  return base.includes(".") ? base.slice(base.lastIndexOf(".")) : "";
};

/** Every [functions.<name>] of supabase/config.toml, with paths relative to the project root. */
export function readFunctionConfigs(root: string): FunctionDeployConfig[] {
  const toml = parseToml(Deno.readTextFileSync(`${root}/supabase/config.toml`)) as {
    functions?: Record<
      string,
      { enabled?: boolean; entrypoint?: string; import_map?: string; verify_jwt?: boolean }
    >;
  };
  return Object.entries(toml.functions ?? {})
    .filter(([, c]) => c.enabled !== false)
    .map(([name, c]) => ({
      name,
      entrypoint: normalize(`supabase/${c.entrypoint ?? `./functions/${name}/index.ts`}`),
      importMap: normalize(`supabase/${c.import_map ?? "./functions/import_map.json"}`),
      verifyJwt: c.verify_jwt ?? true,
    }));
}

interface ImportMap {
  files: string[];
  imports: Record<string, string>;
}

async function loadImportMap(root: string, path: string): Promise<ImportMap> {
  const parsed = JSON.parse(await Deno.readTextFile(`${root}/${path}`)) as {
    imports?: Record<string, string>;
    scopes?: unknown;
    importMap?: string;
  };
  const base = path.split("/").pop()!.toLowerCase();
  if (
    (base === "deno.json" || base === "deno.jsonc") && !parsed.imports && !parsed.scopes &&
    parsed.importMap
  ) {
    const next = await loadImportMap(root, normalize(`${dirname(path)}/${parsed.importMap}`));
    return { files: [path, ...next.files], imports: next.imports };
  }
  const imports: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed.imports ?? {})) {
    // Relative targets resolve against the map's folder; URLs and absolute paths stay.
    imports[k] = /^[a-z][a-z0-9+.-]*:/i.test(v) || v.startsWith("/")
      ? v
      : `./${normalize(`${dirname(path)}/${v}`)}${v.endsWith("/") ? "/" : ""}`;
  }
  return { files: [path], imports };
}

/** The files `supabase functions deploy` would upload for `fn`, relative to `root`. */
export async function uploadSet(root: string, fn: FunctionDeployConfig): Promise<string[]> {
  const map = await loadImportMap(root, fn.importMap);
  const seen = new Set<string>();
  const queue = [fn.entrypoint];
  while (queue.length > 0) {
    const current = queue.pop()!;
    if (seen.has(current)) continue;
    let text: string;
    try {
      text = await Deno.readTextFile(`${root}/${current}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue; // the CLI warns and goes on
      throw e;
    }
    seen.add(current);
    for (const m of text.matchAll(IMPORT_PATH)) {
      let mod = (m[1] || m[2] || "").trim();
      let substituted = false;
      for (const [k, v] of Object.entries(map.imports)) {
        if (mod.startsWith(k)) {
          mod = v + mod.slice(k.length);
          substituted = true;
        }
      }
      if (extname(mod) === "") continue;
      const relative = mod.startsWith("./") || mod.startsWith("../");
      if (!relative && !mod.startsWith("/")) continue;
      queue.push(normalize(relative && !substituted ? `${dirname(current)}/${mod}` : mod));
    }
  }
  return [...new Set([...map.files, ...seen])].sort();
}
