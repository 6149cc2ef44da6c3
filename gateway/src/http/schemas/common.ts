/**
 * Building blocks shared by the route schemas. Wire keys are snake_case (issue 2 §5);
 * timestamps are Unix epoch milliseconds, as on MQTT (contracts/payloads.ts).
 */
import { Type } from '@sinclair/typebox';
import { BARCODE_PATTERN } from '../../../../contracts/payloads.js';
import { ID_PATTERN } from '../../../../contracts/topics.js';

export const Id = Type.String({ pattern: ID_PATTERN, description: 'letters, digits, "_", "." or "-", at most 64' });
export const Barcode = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: BARCODE_PATTERN,
  description: 'printable ASCII (GS1 FNC1 as GS, 0x1d), 1 to 128 characters',
});
export const Millis = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description: 'epoch ms' });
export const Grams = Type.Number({ minimum: 0, maximum: 500_000 });

export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** Body of every error answer: `{ error: { code, message, message_zh, details } }`. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable PKL_* code (docs/errors.md)' }),
      message: Type.String(),
      message_zh: Type.String(),
      details: Type.Optional(Type.Object({}, { additionalProperties: true })),
    }),
  },
  { description: 'A coded error' },
);

/** Response entries for the error statuses every route can answer with. */
export const errorResponses = {
  '4xx': ErrorBody,
  '5xx': ErrorBody,
} as const;

/** OpenAPI security requirement for bearer-token routes. */
export const bearer = [{ bearerAuth: [] }];
