// The front's request log: what each request was (service and operation guessed as AWS would route it).
import type { IncomingHttpHeaders } from 'node:http';

export type Service = 's3' | 'lambda' | 'batch' | 'iam' | 'sts' | 'code' | (string & {});

/** One request that reached the front, as recorded. */
export interface RecordedRequest {
  seq: number;
  /** ms since epoch when the request arrived */
  time: number;
  method: string;
  /** URL-decoded path, without the query */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  service: Service;
  /** e.g. GetFunction, Invoke, SubmitJob, GetObject; '' when unknown */
  operation: string;
  /** parsed JSON body for Lambda and Batch requests (undefined when empty or not JSON) */
  body?: unknown;
  /** parsed JSON answer, kept for Batch requests (SubmitJob → jobId) */
  response?: unknown;
  /** response status once answered (undefined while in flight or when dropped before headers) */
  status?: number;
  /** the fault that answered this request, if any */
  fault?: string;
  /** for code downloads: the sha256 (hex) the URL stands for, the function or layer, bytes sent */
  code?: { sha256: string; target: string; bytes: number };
}

const CRED_SCOPE = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/;

/** Which AWS service a request is for, as moto_server decides it: signature scope first, then the path. */
export function guessService(path: string, headers: IncomingHttpHeaders, query: URLSearchParams): Service {
  const auth = headers.authorization ?? '';
  const scope = CRED_SCOPE.exec(auth)?.[1] ?? CRED_SCOPE.exec(query.get('X-Amz-Credential') ?? '')?.[1];
  if (scope) return scope;
  if (/^\/20\d\d-\d\d-\d\d\/(functions|layers|tags|event-source-mappings)/.test(path)) return 'lambda';
  if (/^\/v1\/[a-z]+$/.test(path)) return 'batch';
  return 's3';
}

const BATCH_OPS: Record<string, string> = {
  submitjob: 'SubmitJob',
  describejobs: 'DescribeJobs',
  listjobs: 'ListJobs',
  canceljob: 'CancelJob',
  terminatejob: 'TerminateJob',
  registerjobdefinition: 'RegisterJobDefinition',
  describejobdefinitions: 'DescribeJobDefinitions',
  createcomputeenvironment: 'CreateComputeEnvironment',
  createjobqueue: 'CreateJobQueue',
  describejobqueues: 'DescribeJobQueues',
  describecomputeenvironments: 'DescribeComputeEnvironments',
};

function lambdaOperation(method: string, path: string, query: URLSearchParams): string {
  const p = path.replace(/^\/\d{4}-\d\d-\d\d/, '');
  if (/^\/functions\/[^/]+\/invocations$/.test(p)) return 'Invoke';
  if (p === '/functions' || p === '/functions/')
    return method === 'POST' ? 'CreateFunction' : 'ListFunctions';
  if (/^\/functions\/[^/]+$/.test(p)) return method === 'DELETE' ? 'DeleteFunction' : 'GetFunction';
  if (/^\/functions\/[^/]+\/configuration$/.test(p))
    return method === 'PUT' ? 'UpdateFunctionConfiguration' : 'GetFunctionConfiguration';
  if (/^\/functions\/[^/]+\/code$/.test(p)) return 'UpdateFunctionCode';
  if (/^\/functions\/[^/]+\/versions$/.test(p)) return method === 'POST' ? 'PublishVersion' : 'ListVersions';
  if (/^\/functions\/[^/]+\/aliases/.test(p)) return method === 'POST' ? 'CreateAlias' : 'GetAlias';
  if (/^\/layers\/?$/.test(p) && query.get('find') === 'LayerVersion') return 'GetLayerVersionByArn';
  if (/^\/layers\/[^/]+\/versions$/.test(p))
    return method === 'POST' ? 'PublishLayerVersion' : 'ListLayerVersions';
  if (/^\/layers\/[^/]+\/versions\/\d+$/.test(p)) return 'GetLayerVersion';
  if (/^\/tags\//.test(p)) return method === 'GET' ? 'ListTags' : 'TagResource';
  return '';
}

function s3Operation(method: string, path: string, query: URLSearchParams): string {
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return 'ListBuckets';
  if (parts.length === 1) {
    if (method === 'PUT') return 'CreateBucket';
    if (method === 'DELETE') return 'DeleteBucket';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'POST' && query.has('delete')) return 'DeleteObjects';
    return 'ListObjects';
  }
  if (query.has('uploads')) return 'CreateMultipartUpload';
  if (query.has('uploadId')) {
    if (method === 'PUT') return 'UploadPart';
    if (method === 'POST') return 'CompleteMultipartUpload';
    if (method === 'DELETE') return 'AbortMultipartUpload';
    return 'ListParts';
  }
  const ops: Record<string, string> = {
    GET: 'GetObject',
    PUT: 'PutObject',
    HEAD: 'HeadObject',
    DELETE: 'DeleteObject',
  };
  return ops[method] ?? '';
}

/** The operation name (GetFunction, SubmitJob, PutObject…), from the path, target header or form Action. */
export function guessOperation(
  service: Service,
  method: string,
  path: string,
  query: URLSearchParams,
  headers: IncomingHttpHeaders,
  rawBody?: Buffer,
): string {
  if (service === 'lambda') return lambdaOperation(method, path, query);
  if (service === 'batch') return BATCH_OPS[path.split('/').pop() ?? ''] ?? '';
  if (service === 's3') return s3Operation(method, path, query);
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return target.split('.').pop() ?? '';
  const action = query.get('Action');
  if (action) return action;
  if (rawBody && /x-www-form-urlencoded/.test(headers['content-type'] ?? '')) {
    return new URLSearchParams(rawBody.toString('utf8')).get('Action') ?? '';
  }
  return '';
}

/** Services whose request bodies the front buffers (small JSON), parses and records. */
export function buffersBody(service: Service): boolean {
  return service === 'lambda' || service === 'batch' || service === 'iam' || service === 'sts';
}

export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}
