import { setTimeout as sleep } from 'node:timers/promises';
import type { QuotaKind } from '../../policies/agreement-quota.ts';
import { quotaWindow } from '../../policies/quota-window.ts';

/**
 * Waits, when less than `roomMs` of the current window of `kind` is left,
 * until the next window opens, so that a test's requests (which run on the
 * gateway's real clock) all fall in one window and its counts cannot be
 * reset half-way by a minute (or a day in Asia/Shanghai) ending. Returns
 * the window the test then runs in.
 */
export async function awaitWindowRoom(kind: QuotaKind, roomMs: number): Promise<{ readonly start: Date; readonly end: Date }> {
  const window = quotaWindow(kind, new Date());
  const left = window.end.getTime() - Date.now();
  if (left >= roomMs) return window;
  // A little past the boundary, so that no clock reading rounds back into the old window.
  await sleep(left + 50);
  return quotaWindow(kind, new Date());
}
