/**
 * An agreement's quota and its current use, and the quota of the request
 * form, in 简体中文 (spread into `ZH_CN_MESSAGES`).
 */
export const QUOTA_ZH = {
  'quota.usedThisMinute': '本分钟已用 {used}/{limit}',
  'quota.usedToday': '今日已用 {used}/{limit}',
  'quota.form.legend': '用量配额（可选）',
  'quota.form.hint': '留空即不设该项限额；填写时须为正整数。',
  'quota.form.perMinute': '每分钟最多请求次数',
  'quota.form.perDay': '每日最多记录条数（北京时间）',
  'quota.form.invalid': '请填写 1 到 {max} 之间的整数，或留空。',
} as const satisfies Readonly<Record<string, string>>;
