/** Alert notifications for cloud sync: webhooks (JSON, WeCom, DingTalk) and e-mail, rate limited. */
export { type Alert, type AlertDetails, type AlertStatus, type Notice, type Severity, SEVERITIES, resolvedAlert, statusOf } from './alert.js';
export { type ChannelStats, Notifier, type NotifierOptions, type NotifierStats } from './notifier.js';
export {
  type ChannelConfig,
  ChannelConfigSchema,
  type EmailChannelConfig,
  EmailChannelSchema,
  type NotifyConfig,
  NotifyConfigSchema,
  type WebhookChannelConfig,
  WebhookChannelSchema,
} from './notify-config.js';
export { AlertRateLimiter, type RateDecision, type RateLimitOptions } from './rate-limit.js';
export { formatJson, type JsonAlertBody } from './format-json.js';
export { formatWecom, WECOM_MARKDOWN_MAX_BYTES } from './format-wecom.js';
export { dingtalkSign, dingtalkSignedUrl, formatDingtalk } from './format-dingtalk.js';
export { emailSubject, emailText, formatEmail, newMessageId } from './format-email.js';
export { type SmtpClientOptions, type SmtpEnvelope, type SmtpSendResult, sendMail } from './smtp-send.js';
