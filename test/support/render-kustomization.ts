import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the tests find kubectl unless `ISTHMUS_KUBECTL` names another: Debian's and the upstream packages' path. */
export const SYSTEM_KUBECTL = '/usr/bin/kubectl';
/** Bound on one render (a few hundred milliseconds here). */
const RENDER_TIMEOUT_MS = 60_000;

/** One object of a rendered kustomization, as the API server would receive it. */
export interface RenderedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>>; readonly annotations?: Readonly<Record<string, string>> };
  readonly [field: string]: unknown;
}

/**
 * The kubectl the deployment tests run: `ISTHMUS_KUBECTL` (an absolute path)
 * or {@link SYSTEM_KUBECTL}. Never downloaded, and never skipped: a machine
 * without it fails the tests, saying how to get it.
 */
export function findKubectl(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const choice = env.ISTHMUS_KUBECTL || SYSTEM_KUBECTL;
  if (!choice.startsWith('/')) throw new Error(`ISTHMUS_KUBECTL must be an absolute path to kubectl, not "${choice}"`);
  if (!existsSync(choice)) {
    throw new Error(`no kubectl at ${choice}: install kubectl 1.30 or newer (it renders the kustomizations offline), or point ISTHMUS_KUBECTL at one`);
  }
  return choice;
}

/**
 * Renders the kustomization in `dir` offline, with kubectl's own kustomize
 * and YAML reading, and returns its objects in order.
 *
 * `kubectl kustomize` prints YAML only, and `kubectl create --dry-run=client
 * -o json` asks a server for the API's discovery; `kubectl annotate --local
 * -k <dir> -o json <key>-` builds the same objects with no server and prints
 * them as JSON. The key it removes is one nobody sets, so the only trace of
 * the trick, an empty `annotations` map, is taken off again.
 *
 * @example
 * const objects = await renderKustomization('deploy/k8s/overlays/production');
 */
export async function renderKustomization(dir: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<readonly RenderedObject[]> {
  const kubectl = findKubectl(env);
  const { stdout } = await run(kubectl, ['annotate', '--local', '-k', dir, '-o', 'json', 'isthmus.invalid/render-'], {
    timeout: RENDER_TIMEOUT_MS,
    maxBuffer: 16 * 1_048_576,
    // No kubeconfig is read for a local render; an empty one makes sure no cluster is ever asked.
    env: { PATH: process.env.PATH ?? '', KUBECONFIG: '/dev/null', HOME: process.env.HOME ?? '/tmp' },
  });
  return parseConcatenatedJson(stdout).map(withoutEmptyAnnotations);
}

/** kubectl prints one indented JSON document per object: `}` alone on a line, then `{`, separates two. */
function parseConcatenatedJson(text: string): RenderedObject[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return JSON.parse(`[${trimmed.replace(/^\}\n\{$/gm, '},\n{')}]`) as RenderedObject[];
}

function withoutEmptyAnnotations(object: RenderedObject): RenderedObject {
  const { annotations, ...metadata } = object.metadata;
  if (annotations === undefined || Object.keys(annotations).length > 0) return object;
  return { ...object, metadata };
}
