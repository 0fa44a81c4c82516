// What the HTTP-level tests need from the stack `npm test` brought up. Each value comes
// from the environment the test runner sets: the test stack's env file, .local/test/env.

export function stackEnv(name: string): string {
  const v = Deno.env.get(name);
  if (!v) {
    throw new Error(
      `Set ${name}: run these tests through \`npm test -- <file>\` (which starts the test ` +
        "stack), or load the running test stack's .local/test/env into the environment",
    );
  }
  return v;
}

export const functionsUrl = (): string => `${stackEnv("SUPABASE_URL")}/functions/v1`;

/** Polls until `check` returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (true) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
