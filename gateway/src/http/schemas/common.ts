/**
 * Building blocks shared by the route schemas. Wire keys are snake_case (docs/http.md);
 * timestamps are Unix epoch milliseconds, as on MQTT (contracts/payloads.ts).
 */
import { Type } from '@sinclair/typebox';

// The wire building blocks live with the order contract; re-exported for the route schemas.
export { Barcode, Grams, Id, Millis, Nullable } from '../../../../contracts/orders.js';

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

/**
 * Bounds of an event seq in a query string. The maximum is not decoration: query strings are
 * coerced, and Ajv's integer check lets "Infinity" and "1e309" through as Infinity (found by
 * `npm run fuzz`, target http-api), which then failed in SQLite as a 500.
 */
export const SEQ_BOUNDS = { minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
