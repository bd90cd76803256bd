import { z } from 'zod';
import { POLL_METHOD, PUSH_METHOD } from './events.ts';

/** Request and response shapes of the SSF endpoints (SSF 1.0 §7, §8; RFC 8936 §2.4). */

const httpUrl = z.url({ protocol: /^https?$/ }).max(2048);
const eventTypes = z.array(z.string().min(1).max(512)).max(50);

export const CreateStreamBody = z
  .object({
    delivery: z.object({
      method: z.enum([PUSH_METHOD, POLL_METHOD]),
      endpoint_url: httpUrl.optional().describe('Push: where SETs are POSTed (required for push)'),
      authorization_header: z
        .string()
        .min(1)
        .max(4096)
        .optional()
        .describe('Push: sent as the Authorization header of every push; never shown again'),
    }),
    events_requested: eventTypes.optional(),
    description: z.string().max(500).optional(),
    aud: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe('`aud` of every SET; default: the endpoint URL (push) or urn:tessera:ssf:<stream_id> (poll)'),
  })
  .meta({ id: 'CreateStreamRequest' });

export const UpdateStreamBody = z
  .object({
    stream_id: z.string().min(1).max(64),
    events_requested: eventTypes.optional(),
    description: z.string().max(500).optional(),
    delivery: z
      .object({
        method: z.enum([PUSH_METHOD, POLL_METHOD]),
        endpoint_url: httpUrl.optional(),
        authorization_header: z.string().min(1).max(4096).optional(),
      })
      .optional(),
  })
  .meta({ id: 'UpdateStreamRequest' });

export const StreamConfiguration = z
  .object({
    stream_id: z.string(),
    iss: z.string(),
    aud: z.string(),
    events_supported: z.array(z.string()),
    events_requested: z.array(z.string()),
    events_delivered: z.array(z.string()),
    delivery: z.object({ method: z.string(), endpoint_url: z.string().optional() }),
    description: z.string().optional(),
    inactivity_timeout: z.number().int(),
    min_verification_interval: z.number().int(),
  })
  .meta({ id: 'StreamConfiguration' });

export const StreamStatusBody = z
  .object({
    stream_id: z.string().min(1).max(64),
    status: z.enum(['enabled', 'paused', 'disabled']),
    reason: z.string().max(500).optional(),
  })
  .meta({ id: 'StreamStatus' });

export const VerifyBody = z
  .object({ stream_id: z.string().min(1).max(64), state: z.string().max(500).optional() })
  .meta({ id: 'VerificationRequest' });

export const PollBody = z
  .object({
    ack: z.array(z.string().max(512)).max(1000).optional(),
    maxEvents: z.number().int().min(0).max(1000).optional(),
    returnImmediately: z.boolean().optional(),
    setErrs: z
      .record(z.string().max(512), z.object({ err: z.string().max(100), description: z.string().max(500) }))
      .optional(),
  })
  .meta({ id: 'PollRequest' });

export const PollResponse = z
  .object({ sets: z.record(z.string(), z.string()), moreAvailable: z.boolean().optional() })
  .meta({ id: 'PollResponse' });

export const TransmitterMetadata = z
  .object({
    spec_version: z.string(),
    issuer: z.string(),
    jwks_uri: z.string(),
    delivery_methods_supported: z.array(z.string()),
    configuration_endpoint: z.string(),
    status_endpoint: z.string(),
    verification_endpoint: z.string(),
    authorization_schemes: z.array(z.object({ spec_urn: z.string() })),
    default_subjects: z.string(),
  })
  .meta({ id: 'TransmitterMetadata' });

export const StreamIdParams = z.object({ streamId: z.string().min(1).max(64) });
export const ClientIdParams = z.object({ id: z.string().min(1).max(64) });

export const BackchannelClientBody = z
  .object({ client_id: z.string().min(1).max(256), backchannel_logout_uri: httpUrl })
  .strict()
  .meta({ id: 'BackchannelLogoutClientRequest' });

export const BackchannelClient = z
  .object({
    id: z.string(),
    client_id: z.string(),
    backchannel_logout_uri: z.string(),
    created_at: z.string(),
  })
  .meta({ id: 'BackchannelLogoutClient' });

export const PasswordBody = z
  .object({ password: z.string().min(1).max(1024) })
  .strict()
  .meta({ id: 'SetPasswordRequest' });

const StreamSummary = z
  .object({
    stream_id: z.string(),
    method: z.enum(['push', 'poll', 'bcl']),
    status: z.string(),
    aud: z.string(),
    endpoint_url: z.string().optional(),
    events: z.array(z.string()),
    queued: z.number().int(),
    created_at: z.string(),
  })
  .meta({ id: 'StreamSummary' });

export const StreamSummaryList = z
  .object({ streams: z.array(StreamSummary) })
  .meta({ id: 'StreamSummaryList' });
