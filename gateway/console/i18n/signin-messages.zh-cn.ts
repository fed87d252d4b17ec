/**
 * The console's words for signing in through the city's identity provider
 * (OpenID Connect), in 简体中文. Spread into `ZH_CN_MESSAGES`; the English
 * file is typed by these keys.
 */
export const SIGNIN_ZH = {
  'signin.oidc.intro': '请使用本市统一身份认证平台的账号登录。',
  'signin.oidc.button': '通过统一身份认证登录',
  'signin.continue.title': '登录成功',
  'signin.continue.text': '您已登录，正在进入控制台……',
  'signin.continue.link': '继续',
  'signin.signedOut.title': '已退出登录',
  'signin.signedOut.text': '您已退出控制台，正在退出统一身份认证平台……',
  'signin.signedOut.link': '退出统一身份认证',
  'signin.refused.title': '登录未完成',
  'signin.refused.STATE_MISMATCH': '此登录请求不是由本控制台发起的，或已使用过、已超时。未登录任何账号。请重新登录。',
  'signin.refused.PROVIDER_REFUSED': '统一身份认证平台拒绝了此次登录（可能是您取消了登录）。未登录任何账号。',
  'signin.refused.CODE_REJECTED': '统一身份认证平台不接受此登录凭证（可能已使用过或已过期）。未登录任何账号。请重新登录。',
  'signin.refused.ID_TOKEN_INVALID': '统一身份认证平台返回的身份凭证不是签发给本控制台的，或未通过验证。未登录任何账号。',
  'signin.refused.PROVIDER_UNAVAILABLE': '统一身份认证平台暂时无法访问。未登录任何账号。请稍后重试。',
  'signin.refused.again': '重新登录',
} as const satisfies Readonly<Record<string, string>>;
