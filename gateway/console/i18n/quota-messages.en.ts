import type { QUOTA_ZH } from './quota-messages.zh-cn.ts';

/** An agreement's quota and its current use, and the quota of the request form, in English (spread into `EN_MESSAGES`). */
export const QUOTA_EN: Readonly<Record<keyof typeof QUOTA_ZH, string>> = {
  'quota.usedThisMinute': '{used} of {limit} used this minute',
  'quota.usedToday': '{used} of {limit} used today',
  'quota.form.legend': 'Quota (optional)',
  'quota.form.hint': 'Leave a box empty to set no limit of that kind; a limit is a whole number above zero.',
  'quota.form.perMinute': 'Most requests a minute',
  'quota.form.perDay': 'Most records a day (Asia/Shanghai)',
  'quota.form.invalid': 'Enter a whole number from 1 to {max}, or leave it empty.',
};
