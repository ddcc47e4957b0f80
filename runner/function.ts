// What the runner knows about the function it runs, however it got it (a local folder, or GetFunction).

/** A function whose code (and layers) are on local disk, ready for a runtime to load. */
export interface PreparedFunction {
  /** Folder with the function's code: LAMBDA_TASK_ROOT. */
  taskRoot: string;
  /** Folder with the extracted layers (Lambda's /opt); may not exist when there are no layers. */
  optDir: string;
  /** Lambda handler string, e.g. `lambda_function.lambda_handler` or `src/index.handler`. */
  handler: string;
  /** Lambda runtime identifier, e.g. `python3.12`, `nodejs20.x`, `provided.al2023`. */
  runtime: string;
  functionName: string;
  /** `$LATEST` or a version number. */
  functionVersion: string;
  /** The ARN the function was invoked with (qualified when it was asked for with a qualifier). */
  invokedFunctionArn: string;
  memorySizeMb: number;
  /** The function's own configured timeout in seconds (reported, not enforced). */
  timeoutSeconds?: number;
  /** The function's own environment variables (Environment.Variables). */
  environment: Record<string, string>;
  /** Region the function lives in (from its ARN), when known. */
  region?: string;
  /** --compat cirrus-v0: the runner's shim the runtime loads instead of `handler` (runtime/compat/shim.ts). */
  compatShim?: { handler: string; pythonPath?: string };
  /** The function's LoggingConfig (GetFunction): log format and levels, and its own log group. */
  logging?: FunctionLogging;
  /** TenancyConfig PER_TENANT: every invocation names a tenant. Undefined when unknown (local code). */
  tenantIsolation?: boolean;
  /**
   * The machine it is built for (x86_64 or arm64): a deployed function's configuration; for local code, what its
   * native files say (undefined when it has none).
   */
  architecture?: string;
  /** What the run record says ran: known for a deployed function, absent for local code. */
  deployed?: DeployedIdentity;
  /** Its execution role (GetFunction's Configuration.Role), for a deployed function. */
  role?: string;
  /**
   * The credentials its runtime and extensions get as AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as
   * Lambda gives them (aws/credentials.ts); none for local code, which keeps what the caller's environment has.
   */
  credentials?: FunctionCredentials;
}

/** Credentials for the function's processes, and whose they are. */
export interface FunctionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
  /** "the job role's", "its execution role arn:aws:iam::…:role/x" */
  whose: string;
}

/** A deployed function as GetFunction describes it (the run record's `function` and `layers`). */
export interface DeployedIdentity {
  /** GetFunction's CodeSha256, as hex (the zip's SHA-256; for an image, its digest). */
  codeSha256: string;
  layers: { arn: string; codeSha256: string }[];
  /** PackageType Image: the image and its resolved digest (`sha256:…`), when GetFunction gave one. */
  image?: { uri: string; digest: string | null };
}

export interface FunctionLogging {
  format: 'JSON' | 'Text';
  /** TRACE, DEBUG, INFO, WARN, ERROR or FATAL (JSON format only). */
  applicationLogLevel?: string;
  systemLogLevel?: string;
  logGroup?: string;
}

/** A deployed function as the run record names it, known from GetFunction's answer on (`''` where it has none). */
export interface FunctionIdentity {
  /** The ARN it was invoked as (qualified when asked for with a qualifier). */
  arn: string;
  version: string;
  runtime: string;
  handler: string;
  /** hex */
  codeSha256: string;
  /** Configuration.Architectures (x86_64 when it names none) */
  architecture: string;
}
