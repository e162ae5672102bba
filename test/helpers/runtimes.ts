/**
 * Providers a GPU check names in CLIPFLOW_EXPECT_RUNTIMES (e.g. `webgpu,cuda`): there
 * a refusal of one of them fails the test instead of being the accepted outcome.
 */
export function expectedRuntimes(): ReadonlySet<string> {
  return new Set((process.env.CLIPFLOW_EXPECT_RUNTIMES ?? '').split(',').map((s) => s.trim()).filter(Boolean));
}
