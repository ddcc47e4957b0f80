// The runner's one usage text: printed by --help and above every usage error.
import { DEFAULT_IDLE_TIMEOUT_S, MAX_CONNECT_TIMEOUT_S } from '../lib/aws-config.js';
import { DEFAULT_EXTENSION_TIMEOUT_S } from './extensions/events.js';
import { LogLevels } from './log.js';
import { JOB_END_MARGIN_MS } from './runtime/deadline.js';
import { DEFAULT_INIT_TIMEOUT_S } from './runtime/external.js';

export const DEFAULT_EXTERNAL_RUNTIME_API = '127.0.0.1:9001';

export const USAGE = `Usage: run-lambda [options] <function> <payload-url> [<output-url>]

Runs one invocation of an AWS Lambda function here, through the Lambda Runtime API; or, for an item
set, the items of one child of a Batch array job, one after another in one runtime.

  <function>     a Lambda function name or ARN (optionally :alias or :version),
                 or a local folder or .zip of function code
  <payload-url>  s3://bucket/key, file:///abs/path, a path, data:application/json;base64,..., or - (stdin);
                 ending in / (s3://bucket/prefix/, a folder/): an item set, item i at <payload-url><i>.json
  <output-url>   s3://bucket/key, file:///abs/path, a path, or - (stdout). Default: beside the
                 payload, .json replaced by _out.json; stdout when the payload is data: or -.
                 For an item set: required, ending in /; item i's result at <output-url><i>.json
  The run record goes beside the result (.json replaced by .run.json; none for stdout without --record).

Options (each also read from RUN_LAMBDA_<NAME>, e.g. RUN_LAMBDA_LOG_LEVEL; a flag wins):
  --handler <h>         handler, e.g. lambda_function.lambda_handler (local default: first found of
                        task.handler, feeder.handler, lambda_function.lambda_handler, index.handler)
  --runtime <r>         runtime, e.g. python3.12, nodejs20.x, provided.al2023 (local default: from the files)
  --timeout <s>         deadline in seconds (each item's, in a set), seen by the handler and enforced (exit 124);
                        default none
  --job-timeout <s>     the whole run's time (Batch's attempt duration, counted from the runner's start): no
                        invocation's deadline is later than its end less up to ${JOB_END_MARGIN_MS / 1000} s kept to write the result
                        and the record; past it the invocation ends (exit 124, JobTimeoutError); default none
  --network-timeout <s> seconds a connection to AWS may stay silent before it is retried (default ${DEFAULT_IDLE_TIMEOUT_S};
                        connecting may take at most ${MAX_CONNECT_TIMEOUT_S} s, or this when lower)
  --cache-dir <dir>     cache for function code and runtime clients
                        (default $XDG_CACHE_HOME/run-lambda or ~/.cache/run-lambda)
  --no-cache            do not read or write the cache
  --opt-dir <dir>       where layers are extracted (Lambda's /opt; default /opt)
  --compat cirrus-v0    behave as cirrusgeo/run-lambda 0.2: handler(event), output to <payload>_out.json
  --log-level <level>   ${LogLevels.join(', ')} (default info)
  --tenant-id <id>      the tenant of this invocation (required for a function with tenant isolation)
  --client-context <j>  the client context the handler sees: JSON, or base64 JSON as Invoke takes it
  --cognito-identity <j>  the Cognito identity the handler sees, as JSON
  --record <url>        where the run record goes (default: beside the result; a set's go beside each item)
  --item-count <n>      items in the set (required with an item set; 1 to 10000)
  --items-per-job <k>   items each child of the array job runs (default 1); child j is AWS_BATCH_JOB_ARRAY_INDEX
  --item-indexes <url>  a redrive's index list: a JSON array of the set's items to run (distinct, each below
                        --item-count, at most 10000); child j runs the list's entries j*k to j*k+k-1
  --ignore-architecture run a function built for another machine (x86_64, arm64) anyway, with a warning: for
                        code with nothing native (otherwise refused, exit 3, naming the image to use)
  --external-runtime    start no runtime: serve the Runtime API to one started elsewhere (a container image
                        function's own image), which connects to --runtime-api
  --runtime-api <h:p>   where the Runtime API listens with --external-runtime (default ${DEFAULT_EXTERNAL_RUNTIME_API})
  --init-timeout <s>    how long to wait for the external runtime's first request (default ${DEFAULT_INIT_TIMEOUT_S}; exit 3)
  --assume-function-role  run a deployed function with its own execution role's credentials, assumed by the job
                        role through STS (for one hour), instead of the job role's
  --extension-timeout <s>  how long each extension (in <opt-dir>/extensions) has, after the runtime answered, to
                        ask for its next event before the run goes on without it (default ${DEFAULT_EXTENSION_TIMEOUT_S})
  --memory-events <f>   the cgroup file whose oom_kill count tells that the runtime was killed for want of memory
                        (Runtime.OutOfMemory; default: the runner's own cgroup's memory.events, v1 memory.oom_control)
  --help                show this text
  --version             show the version

Exit codes: 0 ok, 1 function failed (in a set: any item failed), 2 bad usage or input (also a payload or
output that does not exist or may not be used), 3 function could not be prepared (or no external runtime
connected), 4 payload/result I/O failed for a reason a retry may not meet, 124 timed out, 128+N stopped
by signal N.`;
