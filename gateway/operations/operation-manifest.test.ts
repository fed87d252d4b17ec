import { describe, expect, it } from 'vitest';
import { normalizeOperationHash, operationHashOf, parseOperationManifest } from './operation-manifest.ts';
import { readOperationsSettings } from './operations-settings.ts';

const DOC = '{ person(idNumber: "1") { name } }';

describe('operation manifests', () => {
  it('accepts keys with or without sha256:, in either case', () => {
    const hex = operationHashOf(DOC).slice('sha256:'.length);
    const parsed = parseOperationManifest({ [hex.toUpperCase()]: DOC }, 'a.json');
    expect(parsed.ok && [...parsed.manifest.keys()]).toEqual([`sha256:${hex}`]);
    expect(normalizeOperationHash('nope')).toBeUndefined();
  });

  it('reports every problem together, naming the source and the hash', () => {
    const bad = '{ broken';
    const parsed = parseOperationManifest({ [operationHashOf(DOC)]: 'query { other }', [operationHashOf(bad)]: bad, short: DOC }, 'civil-affairs/app.json');
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toHaveLength(3);
    expect(parsed.problems[0]).toBe(`civil-affairs/app.json: ${operationHashOf(DOC)} does not match its document, whose sha256 is ${operationHashOf('query { other }')}`);
    expect(parsed.problems[1]).toContain('does not parse');
    expect(parsed.problems[2]).toContain('is not a sha256 hash');
    expect(parseOperationManifest([], 'x').ok).toBe(false);
  });

  it('reads the mode settings, refusing an unknown mode by name', () => {
    const problems: string[] = [];
    const settings = readOperationsSettings({ ISTHMUS_OPERATIONS_MODE: 'log-unknown', ISTHMUS_OPERATIONS_APP_MODES: 'a/b=require' }, problems);
    expect(problems).toEqual([]);
    expect(settings.defaultMode).toBe('log-unknown');
    expect(settings.appModes.get('a/b')).toBe('require');
    readOperationsSettings({ ISTHMUS_OPERATIONS_MODE: 'strict', ISTHMUS_OPERATIONS_APP_MODES: 'a/b=on,nonsense' }, problems);
    expect(problems).toEqual([
      'ISTHMUS_OPERATIONS_MODE must be one of off, log-unknown, require',
      'ISTHMUS_OPERATIONS_APP_MODES entry 1 of 2 (a/b): the mode must be one of off, log-unknown, require',
      'ISTHMUS_OPERATIONS_APP_MODES entry 2 of 2 must be "<bureau>/<app>=<mode>"',
    ]);
  });
});
