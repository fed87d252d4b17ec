import { describe } from 'vitest';
import { storeTargets, type StoreTarget } from './test-stores.ts';

/**
 * Declares the suite `body` once per store target, titled `title` with
 * `$name` replaced by the target's name: `describe.each(storeTargets())`,
 * except that a target this machine cannot run is declared skipped (counted
 * in the summary) rather than left out.
 *
 * @example
 * describeEachStore('agreement store on $name', (target) => {
 *   let store: Store;
 *   beforeAll(async () => (store = await target.open()));
 *   afterAll(() => store?.close());
 *   it('…', async () => { … });
 * });
 */
export function describeEachStore(title: string, body: (target: StoreTarget) => void): void {
  for (const target of storeTargets()) describe.skipIf(!target.available)(title.replaceAll('$name', target.name), () => body(target));
}
