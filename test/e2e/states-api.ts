// The Step Functions API on moto, for reading back what the stack deployed (no Step Functions SDK client is installed:
// each call is one request in the service's JSON protocol).
import assert from 'node:assert/strict';
import { fakeAuth } from '../integration/harness/clients.js';
import type { Harness } from '../integration/harness/index.js';

/** A state machine as DescribeStateMachine answers it. */
export interface DeployedStateMachine {
  stateMachineArn: string;
  roleArn: string;
  type: string;
  definition: string;
}

/** One Step Functions API call on moto. */
async function stepFunctions(h: Harness, action: string, request: unknown): Promise<unknown> {
  const res = await fetch(`${h.motoEndpoint}/`, {
    method: 'POST',
    headers: {
      ...fakeAuth('states'),
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AWSStepFunctions.${action}`,
    },
    body: JSON.stringify(request),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `${action} ${JSON.stringify(request)}: ${JSON.stringify(body)}`);
  return body;
}

export async function describeStateMachine(h: Harness, arn: string): Promise<DeployedStateMachine> {
  return (await stepFunctions(h, 'DescribeStateMachine', { stateMachineArn: arn })) as DeployedStateMachine;
}

/** The ARNs of every state machine moto holds. */
export async function listStateMachines(h: Harness): Promise<string[]> {
  const { stateMachines } = (await stepFunctions(h, 'ListStateMachines', {})) as {
    stateMachines: { stateMachineArn: string }[];
  };
  return stateMachines.map((s) => s.stateMachineArn);
}
