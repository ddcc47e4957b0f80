// Errors the helper raises itself (dispatcher errors are revived from lib/errors.ts by name).
import { errorClass } from '../../lib/error-class.js';
import { DispatchError } from '../../lib/errors.js';

/** The request is too large for a synchronous Lambda invoke and no payload bucket is configured. */
export class PayloadTooLargeError extends errorClass('PayloadTooLargeError', DispatchError) {}
