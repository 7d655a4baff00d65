// The causes a kube-apiserver validation failure lists, worded as apimachinery's field.Error
// words them: `Invalid value: <value>: <detail>`, `Forbidden: <detail>`, `Required value`.
// Values are already printed the Go way (go-values.ts); `invalid()` in store/errors.ts prefixes
// each with its field in the Status message.
import type { StatusCause } from '../store/errors.ts';

/** The detail of every ValidateImmutableField failure. */
export const FIELD_IMMUTABLE = 'field is immutable';

/** A field.Invalid cause: `value` as Go prints it, then why. */
export function fieldInvalid(field: string, value: string, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${value}: ${detail}`, field };
}

/** A field.Forbidden cause. */
export function fieldForbidden(field: string, detail: string): StatusCause {
  return { reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field };
}

/** A field.Required cause (the detail, when there is one, follows the type). */
export function fieldRequired(field: string, detail = ''): StatusCause {
  return { reason: 'FieldValueRequired', message: detail === '' ? 'Required value' : `Required value: ${detail}`, field };
}
