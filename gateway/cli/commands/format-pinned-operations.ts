import { neutralizeText } from '../../../policies/display-safe-text.ts';

/** One pinned operation as `GET /admin/api/agreements/:id` answers it (`operations/pinned-operations.ts`). */
interface ShownPinnedOperation {
  readonly hash: string;
  readonly names?: readonly string[];
  readonly document?: string;
}

/**
 * The operations an agreement pins, for `isthmus agreements show`: each
 * hash with its operation names, then its document, every line of it
 * indented behind `| ` and neutralized (`policies/display-safe-text.ts`), so
 * a control character in a registered document can neither steer the
 * terminal nor forge a line of the output; a hash no app registers any
 * more says so. Nothing when the agreement pins none.
 *
 * @example
 * formatPinnedOperations(['sha256:ab…'], [{ hash: 'sha256:ab…', names: ['AllowanceCheck'], document: 'query AllowanceCheck { … }' }]);
 * // 'pinned operations (1):\n  sha256:ab…  AllowanceCheck\n    | query AllowanceCheck { … }\n'
 */
export function formatPinnedOperations(pinned: readonly string[] | undefined, described: readonly ShownPinnedOperation[] | undefined): string {
  if (!pinned || pinned.length === 0) return '';
  const byHash = new Map((described ?? []).map((operation) => [operation.hash, operation]));
  const blocks = pinned.map((hash) => {
    const operation = byHash.get(hash);
    if (operation?.document === undefined) return `  ${neutralizeText(hash)}  (not registered any more)\n`;
    const names = operation.names && operation.names.length > 0 ? operation.names.join(', ') : '(anonymous)';
    const lines = operation.document.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
    return `  ${neutralizeText(hash)}  ${neutralizeText(names)}\n${lines.map((line) => `    | ${neutralizeText(line)}\n`).join('')}`;
  });
  return `pinned operations (${pinned.length}):\n${blocks.join('')}`;
}
