import { runCli } from '../../gateway/cli/run-cli.ts';

/** What one in-process CLI run printed, and its exit code. */
export interface CapturedRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `isthmus <argv>` in this process with `env`, capturing what it prints. */
export async function runCliCaptured(argv: readonly string[], env: Record<string, string> = {}): Promise<CapturedRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env });
  return { code, stdout, stderr };
}
