/** An access-log entry's receipt in 简体中文 (keys `receipt.…`): what it proves, in plain words, for citizens and data officers. */
export const RECEIPT_ZH = {
  'receipt.label': '存证',
  'receipt.cosigned': '可以证明这条记录已记入本市的访问日志，并已由{witnesses}共同签署确认。',
  'receipt.logOnly': '可以证明这条记录已记入本市的访问日志（由本市的日志密钥签署；尚未配置独立的见证方）。',
  'receipt.pending': '这条记录尚未经见证方共同签署，请在{time}之后再来查看。',
  'receipt.download': '下载存证凭证（JSON）',
  'receipt.verifyHint': '任何人都可以用 @isthmus/log-proofs 的 verifyReceipt，依据网关和见证方公布的公钥，独立核验这份凭证。',
  'receipt.place': '日志 {origin} 中共 {size} 条记录的第 {leaf} 条',
  'receipt.short.cosigned': '已共同签署 · 下载凭证',
  'receipt.short.pending': '尚未共同签署',
  'receipt.legacy': '这条记录写入于本市日志启用见证之前，只由原有的哈希链保护，无法提供存证凭证。',
} as const;
