// lambda-batch's one usage text: printed by --help and above every usage error.
import { ExitCodes } from './errors.js';

export const DEFAULT_INTERVAL_S = 2;
export const DEFAULT_MAX_WAIT_S = 3600;
export const DEFAULT_LIST_LIMIT = 50;

export const USAGE = `Usage: lambda-batch <command> [options]

See what happened to the Batch jobs the dispatcher submitted, read their logs, know what they cost, and run
again what failed.

Commands:
  status <job-id | record-url>  the job's state and reason; its run record (status, error, timings, result);
                                for an item set: items succeeded, failed (by error type) and missing, and the
                                run's cost (vCPU- and GiB-seconds; dollars on Fargate, an estimate)
  logs <job-id>                 the job's log events from CloudWatch Logs, oldest first (every container's,
                                each line named by its container, for a multi-container job)
  redrive <job-id>              one new job over exactly the failed and missing items of a finished item set
                                (or the single job again), through the dispatcher, under a new idempotency key
  list                          the jobs the dispatcher submitted (its dispatch records), newest first
  cancel <job-id>               terminate a job, and an array job's unfinished children

Options:
  --json              one JSON document on stdout instead of lines for people
  --region <r>        the AWS region (default AWS_REGION, then AWS_DEFAULT_REGION)
  --progress          progress on stderr while reading a large set even when stderr is no terminal
  --index <i>         logs: child i of an array job
  --attempt <n>       logs: attempt n (1 is the first; default the latest)
  --follow            logs: poll for new events until the job ends
  --interval <s>      logs --follow: seconds between polls (default ${DEFAULT_INTERVAL_S})
  --max-wait <s>      logs --follow: stop following after this long (default ${DEFAULT_MAX_WAIT_S}; then exit ${ExitCodes.notFinished})
  --dispatcher <f>    redrive, list: the dispatcher's function name or ARN (default BATCH_DISPATCHER_FUNCTION)
  --dry-run           redrive: print the request it would send, and write and submit nothing
  --function <f>      list: only this function's jobs
  --since <t>         list: only jobs submitted since t (ISO time, or 30m, 6h, 7d ago)
  --limit <n>         list: at most n jobs (default ${DEFAULT_LIST_LIMIT})
  --bucket <b>        list: the payload bucket (default PAYLOAD_BUCKET, else the dispatcher's own setting)
  --prefix <p>        list: the payload prefix (default PAYLOAD_PREFIX, else the dispatcher's, else batch/)
  --reason <text>     cancel: the reason Batch records (default "cancelled with lambda-batch")
  --debug             the stack of an unexpected error
  --help              show this text
  --version           show the version

A <job-id> is a Batch job id (a UUID; <id>:<i> for child i of an array job) or a job ARN. A <record-url> is a
run record (s3://…_out.run.json) or an item set's output prefix (s3://…/out/).
Credentials, region and endpoints come from the usual AWS chain (AWS_PROFILE, AWS_ENDPOINT_URL, ...).

Exit codes: ${ExitCodes.ok} done (status: the job and every item succeeded), ${ExitCodes.failed} status: the job or an item failed or is
missing (any command: the dispatcher refused), ${ExitCodes.usage} bad usage, an unknown job, a record that is not a
run record, a job still running (redrive), or an AWS refusal a retry would meet again, ${ExitCodes.transient} a transient AWS error,
${ExitCodes.notFinished} status: the job has not finished (logs --follow: it had not when --max-wait ran out).`;
