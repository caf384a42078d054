import { duration } from '../../tasks/duration.js';
import { z } from 'zod';

export const severities = ['P0', 'P1', 'P2'] as const;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const nonEmpty = z.string().trim().min(1, 'must not be empty');

/** Fields every channel has: a unique `name` and the severities it accepts (default: all). */
const base = {
  name: nonEmpty,
  severities: z.array(z.enum(severities)).min(1, 'must list at least one severity').optional(),
};

/** Generic JSON webhook, optionally HMAC-signed (see `deliverWebhook`). */
export const webhookChannelSchema = z.strictObject({
  type: z.literal('webhook'),
  ...base,
  url: httpUrl,
  secret: nonEmpty.optional(),
});

/** Slack incoming webhook. */
export const slackChannelSchema = z.strictObject({ type: z.literal('slack'), ...base, url: httpUrl });

/** WeCom (企业微信) group bot webhook, `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`. */
export const wecomChannelSchema = z.strictObject({ type: z.literal('wecom'), ...base, url: httpUrl });

/** DingTalk robot webhook, `https://oapi.dingtalk.com/robot/send?access_token=…`; `secret` enables 加签. */
export const dingtalkChannelSchema = z.strictObject({
  type: z.literal('dingtalk'),
  ...base,
  url: httpUrl,
  secret: nonEmpty.optional(),
});

/** SMTP email. `ignoreTLS` skips STARTTLS: only for a trusted local relay. */
export const emailChannelSchema = z
  .strictObject({
    type: z.literal('email'),
    ...base,
    host: nonEmpty,
    port: z.number().int().min(1).max(65535),
    secure: z.boolean().optional(),
    ignoreTLS: z.boolean().optional(),
    user: nonEmpty.optional(),
    pass: z.string().min(1, 'must not be empty').optional(),
    from: nonEmpty,
    to: z.array(nonEmpty).min(1, 'must list at least one recipient'),
  })
  .refine((c) => (c.user === undefined) === (c.pass === undefined), {
    path: ['pass'],
    message: 'user and pass must be set together',
  });

export const channelSchema = z.discriminatedUnion(
  'type',
  [webhookChannelSchema, slackChannelSchema, wecomChannelSchema, dingtalkChannelSchema, emailChannelSchema],
  { error: 'type must be one of webhook, slack, wecom, dingtalk, email' },
);

const routeList = z.array(nonEmpty);

/** The alerts file: channels plus optional per-severity routes (channel names). */
export const alertsFileSchema = z
  .strictObject({
    channels: z.array(channelSchema),
    routes: z.strictObject({ P0: routeList.optional(), P1: routeList.optional(), P2: routeList.optional() }).optional(),
    /** An alert of this severity not acknowledged within the time goes to the next severity's route (P2 → P1 → P0). */
    escalateAfter: z
      .strictObject({ P1: duration({ min: 1000 }).optional(), P2: duration({ min: 1000 }).optional() })
      .optional(),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.channels.forEach((channel, i) => {
      if (seen.has(channel.name))
        ctx.addIssue({
          code: 'custom',
          path: ['channels', i, 'name'],
          message: `duplicate channel name "${channel.name}"`,
        });
      seen.add(channel.name);
    });
    for (const severity of severities) {
      file.routes?.[severity]?.forEach((name, i) => {
        if (!seen.has(name))
          ctx.addIssue({ code: 'custom', path: ['routes', severity, i], message: `unknown channel "${name}"` });
      });
    }
  });

export type WebhookChannel = z.infer<typeof webhookChannelSchema>;
export type SlackChannel = z.infer<typeof slackChannelSchema>;
export type WecomChannel = z.infer<typeof wecomChannelSchema>;
export type DingtalkChannel = z.infer<typeof dingtalkChannelSchema>;
export type EmailChannel = z.infer<typeof emailChannelSchema>;
export type Channel = z.infer<typeof channelSchema>;
export type AlertsConfig = z.infer<typeof alertsFileSchema>;
