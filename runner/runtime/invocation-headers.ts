// The per-invocation headers a run passes to the runtime (tenant, client context, Cognito identity), checked
// against the function: Lambda refuses an invocation of a tenant-isolated function that names no tenant.
import { UsageError } from '../errors.js';
import type { PreparedFunction } from '../function.js';

export interface InvocationHeaders {
  tenantId?: string;
  clientContext?: string;
  cognitoIdentity?: string;
}

/** The headers the run asked for (its --tenant-id, --client-context, --cognito-identity), checked against `fn`. */
export function invocationHeaders(fn: PreparedFunction, asked: InvocationHeaders): InvocationHeaders {
  if (fn.tenantIsolation === true && asked.tenantId === undefined) {
    throw new UsageError(
      `${fn.functionName} isolates tenants (TenancyConfig PER_TENANT): name the tenant with --tenant-id or RUN_LAMBDA_TENANT_ID`,
    );
  }
  if (fn.tenantIsolation === false && asked.tenantId !== undefined) {
    throw new UsageError(
      `${fn.functionName} has no tenant isolation, so it takes no --tenant-id (as in Lambda)`,
    );
  }
  return {
    ...(asked.tenantId === undefined ? {} : { tenantId: asked.tenantId }),
    ...(asked.clientContext === undefined ? {} : { clientContext: asked.clientContext }),
    ...(asked.cognitoIdentity === undefined ? {} : { cognitoIdentity: asked.cognitoIdentity }),
  };
}
