import { readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Issue 14, part 5: `deploy/Containerfile` cannot be built on these machines
 * (no registry for its base images), so its instructions are read instead:
 * multi-stage, production dependencies only, no tests, a numeric non-root
 * user, no HEALTHCHECK, and everything the gateway imports inside the image.
 */

const root = fileURLToPath(new URL('..', import.meta.url));

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}
interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

/** The Containerfile's stages: comments dropped, `\` continuations joined, instructions grouped by `FROM`. */
function parseContainerfile(text: string): { readonly args: readonly Instruction[]; readonly stages: readonly Stage[] } {
  const lines = text.split('\n').filter((line) => !/^\s*#/.test(line));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  const args: Instruction[] = [];
  const stages: { from: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const line of joined.split('\n')) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!.replace(/\s+/g, ' ').trim() };
    if (instruction.keyword === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args) ?? [];
      stages.push({ from: from!, name, instructions: [] });
    } else if (stages.length === 0) args.push(instruction);
    else stages.at(-1)!.instructions.push(instruction);
  }
  return { args, stages };
}

const containerfile = parseContainerfile(readFileSync(join(root, 'deploy/Containerfile'), 'utf8'));
const copiesOf = (stage: Stage) => stage.instructions.filter((instruction) => instruction.keyword === 'COPY');
/** The repository paths a stage copies from the build context (not from another stage). */
const contextSources = (stage: Stage) =>
  copiesOf(stage)
    .filter((copy) => !copy.args.includes('--from='))
    .flatMap((copy) => copy.args.split(' ').filter((part) => !part.startsWith('--')).slice(0, -1));

describe('deploy/Containerfile', () => {
  const build = containerfile.stages[0]!;
  const runtime = containerfile.stages.at(-1)!;

  it('installs the production dependencies in a build stage and copies only its result into the runtime', () => {
    expect(containerfile.stages.length).toBeGreaterThanOrEqual(2);
    expect(build.name).toBeDefined();
    const installs = build.instructions.filter((instruction) => instruction.keyword === 'RUN' && /\bnpm ci\b/.test(instruction.args));
    expect(installs).toHaveLength(1);
    expect(installs[0]!.args).toMatch(/--omit=dev/);
    // The runtime takes nothing from the build context, and runs no command: no package manager, no shell needed.
    expect(contextSources(runtime)).toEqual([]);
    expect(copiesOf(runtime).every((copy) => copy.args.includes(`--from=${build.name}`))).toBe(true);
    expect(runtime.instructions.filter((instruction) => instruction.keyword === 'RUN')).toEqual([]);
    expect(runtime.from).not.toBe(build.name);
  });

  it('runs as a numeric non-root user, without a HEALTHCHECK, starting gateway/main.ts', () => {
    const users = runtime.instructions.filter((instruction) => instruction.keyword === 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.args.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid ?? uid).toBeGreaterThan(0);
    expect(containerfile.stages.flatMap((stage) => stage.instructions).filter((instruction) => instruction.keyword === 'HEALTHCHECK')).toEqual([]);
    const start = runtime.instructions.filter((instruction) => instruction.keyword === 'ENTRYPOINT' || instruction.keyword === 'CMD').map((instruction) => JSON.parse(instruction.args) as string[]);
    expect(start.flat()).toContain('gateway/main.ts');
    expect(readFileSync(join(root, 'deploy/k8s/base/deployment.yaml'), 'utf8')).toMatch(new RegExp(`runAsUser: ${uid}\\b`));
  });

  it('copies no tests, dev tools, bench or demo: only the folders the gateway runs from', () => {
    const sources = contextSources(build);
    expect(sources).not.toContain('.');
    for (const source of sources) expect(source, source).not.toMatch(/^(test|bench|examples|docs|node_modules|\.isthmus)(\/|$)|\.test\.ts$/);
    // Tests sit beside the code: the build stage deletes them after copying.
    expect(build.instructions.some((instruction) => instruction.keyword === 'RUN' && instruction.args.includes("-name '*.test.ts'") && instruction.args.includes('rm'))).toBe(true);
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim());
    expect(ignore).toContain('*');
    expect(ignore).toContain('**/*.test.ts');
    for (const source of sources) expect(ignore, `.dockerignore lets ${source} into the build context`).toContain(`!${source.replace(/^\.\//, '')}${statSync(join(root, source)).isDirectory() ? '/' : ''}`);
  });

  it('holds everything the gateway and the migration Job import', () => {
    const copied = contextSources(build).map((source) => resolve(root, source));
    const inImage = (file: string) => copied.some((source) => file === source || file.startsWith(`${source}/`));
    const missing: string[] = [];
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      if (!inImage(file)) {
        missing.push(relative(root, file));
        return;
      }
      if (!file.endsWith('.ts')) return;
      const text = readFileSync(file, 'utf8');
      for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) visit(resolve(dirname(file), specifier!));
    };
    visit(join(root, 'gateway/main.ts'));
    visit(join(root, 'deploy/migrate-store.ts'));
    visit(join(root, 'gateway/cli/isthmus.ts'));
    expect(missing).toEqual([]);
    // The walk went far: the whole gateway, not just its entry point.
    expect(seen.size).toBeGreaterThan(100);
    expect([...seen].some((file) => file.includes('/packages/isthmus-log-proofs/'))).toBe(true);
  });
});
