"""Re-submit a Lambda's payload as an AWS Batch job through the dispatcher: the Python half of the helper layer.

A Python feeder (cirrus-lib style) calls ``submit_batch_job(payload, context.invoked_function_arn)`` and
returns; the dispatcher stores the payload and submits the job that runs the same function in Batch.
Standard library and boto3 only: both are in every Lambda Python runtime, so the layer ships this one file.
"""

import hashlib
import json
import logging
import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

__all__ = [
    "BatchDispatchError",
    "ConfigError",
    "PayloadTooLargeError",
    "error_class",
    "image_for_definition",
    "is_batch_job",
    "idempotency_key_for",
    "item_key",
    "payload_key",
    "stack_queue",
    "submit_batch_job",
    "submit_batch_jobs",
]

logger = logging.getLogger(__name__)

# Lambda refuses a synchronous request over 6 MiB (6291456 bytes); stay well under it so the envelope fits.
MAX_INVOKE_BYTES = 6_000_000
# A set holds 1 to 10,000 items (Batch's array jobs have at most 10,000 children).
MAX_ITEMS = 10_000
DEFAULT_PAYLOAD_PREFIX = "batch/"
# Parallel PutObjects for an item set the helper stores itself: one thread and one pooled connection each (the S3
# client's pool is sized to match; boto3's default pool of 10 would open and throw away a connection per extra thread).
# Half the dispatcher's 32 (lib/payload-store.ts), which writes from one Node.js event loop: a feeder is usually a
# small Lambda (a fraction of a vCPU), where boto3 builds and checksums each request in its thread, and 16 writes in
# flight already hide S3's latency for the sets a feeder stages (only requests over Lambda's 6 MB invoke limit).
ITEM_WRITE_CONCURRENCY = 16


class BatchDispatchError(Exception):
    """An error the dispatcher returned; subclasses are named after its ``errorType``."""

    error_type = "BatchDispatchError"


class ConfigError(Exception):
    """The helper is missing configuration it needs (an environment variable)."""


class PayloadTooLargeError(Exception):
    """The request is too large for a synchronous Lambda invoke and no payload bucket is configured."""


_ERROR_CLASSES = {}
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
_ERROR_TYPE = re.compile(r"^[A-Za-z_][\w.]*$")
_LOCAL_HOST = re.compile(r"^(localhost|127\.\d+\.\d+\.\d+|::1|\d+\.\d+\.\d+\.\d+)$")


def error_class(error_type):
    """The exception class for a dispatcher ``errorType``, made once per name (a subclass of BatchDispatchError).

    ``except cirrus_batch.error_class("InvalidRequestError")`` (or ``from cirrus_batch import
    InvalidRequestError``) catches exactly that error.
    """
    # The class name is the errorType itself (dots included, as in Runtime.ImportModuleError), so a
    # traceback's last line reads like the dispatcher's error.
    if not error_type or not _ERROR_TYPE.match(error_type) or error_type == "BatchDispatchError":
        return BatchDispatchError
    cls = _ERROR_CLASSES.get(error_type)
    if cls is None:
        cls = type(error_type, (BatchDispatchError,), {"error_type": error_type, "__module__": __name__})
        _ERROR_CLASSES[error_type] = cls
    return cls


def __getattr__(name):
    # PEP 562: lets callers import a dispatcher error by name before it was ever raised.
    if name.endswith("Error") and _IDENTIFIER.match(name):
        return error_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_batch_job(environ=None):
    """True inside any job the runner runs (``RUN_LAMBDA_JOB=1``) or an AWS Batch job (``AWS_BATCH_JOB_ID``).

    Feeders then run inline. The runner sets ``RUN_LAMBDA_JOB`` for the function wherever it runs it
    (Batch, Kubernetes, a laptop).
    """
    env = os.environ if environ is None else environ
    return bool(env.get("AWS_BATCH_JOB_ID")) or env.get("RUN_LAMBDA_JOB") == "1"


def image_for_definition(definition):
    """Maps a cirrus-lib job definition name to the dispatcher's ``image``.

    cirrus-lib named its definitions ``<stack>-geolambda-as-batch`` and ``<stack>-lambda-as-batch``; the
    dispatcher picks the job definition from the image, so only that choice carries over. Any other name
    returns None: the dispatcher then chooses from the function's ``batch:image`` tag or its GDAL layers.
    """
    if not definition:
        return None
    d = definition.lower()
    if "geolambda" in d:
        return "geolambda"
    if "lambda-as-batch" in d:
        return "lambda"
    logger.warning(
        "job definition %r is not a lambda-as-batch definition; letting the dispatcher choose the image",
        definition,
    )
    return None


# Lambda's FunctionName forms (lib/lambda-arn.ts): name, name:qualifier, 123456789012:function:name, or a full ARN;
# a name of 1-64 characters, an alias of 1-128, the whole reference at most 170.
_FUNCTION = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:)?(?:[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d:)?(?:\d{12}:)?(?:function:)?"
    r"([a-zA-Z0-9_-]{1,64})(?::(?:\$LATEST|[a-zA-Z0-9_-]{1,128}))?\Z"
)
_MAX_FUNCTION_REF_LENGTH = 170
_ARN_REGION = re.compile(r"^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):")


def _function_name(arn):
    m = _FUNCTION.match(arn) if len(arn) <= _MAX_FUNCTION_REF_LENGTH else None
    if not m:
        raise ValueError(f"not a Lambda function name or ARN: {arn!r}")
    return m.group(1)


def _region_of(arn):
    """The region of a Lambda ARN, or None for a bare name."""
    m = _ARN_REGION.match(arn)
    return m.group(1) if m else None


# What may name a dispatch's objects as it is (lib/object-id.ts): one path segment, never ``.`` or ``..``, and no
# ending of another object's name (``k.dispatch`` would write over the idempotency record of ``k``).
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}\Z")
_RESERVED_ENDINGS = ("_out", "_out.run", ".dispatch", ".jobdef")
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")


def _check_key(key):
    """``key`` when it may name objects as it is, else the dispatcher's InvalidRequestError naming the field."""
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY.match(key):
        shown = json.dumps(str(key)[:130])
        raise error_class("InvalidRequestError")(
            f"idempotency_key: must be 1-128 letters, digits, -, _ or . (not first), got {shown}"
        )
    if key.endswith(_RESERVED_ENDINGS):
        raise error_class("InvalidRequestError")(
            f"idempotency_key: must not end in {', '.join(_RESERVED_ENDINGS)} "
            f"(the names of a dispatch's other objects), got {json.dumps(key)}"
        )
    return key


def _json(value, field="payload"):
    """Compact JSON of what the caller gave; NaN and Infinity are refused (they are not JSON, and Lambda's refusal of
    such a request quotes the request around them), as is anything json cannot write."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as err:
        raise error_class("InvalidRequestError")(f"{field}: cannot be sent as JSON ({err})") from None


def _under(prefix, function_name, object_id):
    """``<prefix><function-name>/<id>``, never ``//``; the name and the id are each checked to be one path segment
    (a function name; a key ``_check_key`` lets through, or a UUID), so no key leaves ``<prefix><function-name>/``."""
    if not _FUNCTION_NAME.match(function_name):
        raise error_class("InvalidRequestError")(f"lambda_function: {function_name!r} is not a function name")
    _check_key(object_id)
    p = prefix.lstrip("/")
    if p and not p.endswith("/"):
        p += "/"
    return f"{p}{function_name}/{object_id}"


def payload_key(prefix, function_name, payload_id):
    """``<prefix><function-name>/<id>.json``, the dispatcher's layout (lib/payload-store.ts)."""
    return f"{_under(prefix, function_name, payload_id)}.json"


def item_key(prefix, function_name, set_id, i):
    """Item ``i`` of a set: ``<prefix><function-name>/<id>/in/<i>.json`` (lib/payload-store.ts's itemKey)."""
    return f"{_under(prefix, function_name, set_id)}/in/{int(i)}.json"


def idempotency_key_for(request_id, request):
    """The key of one submission: the caller's request id (kept by Lambda's retries) and a request digest.

    One invocation's different submissions get different keys; a retried invocation's the same ones.
    """
    body = json.dumps(request, separators=(",", ":"), sort_keys=True).encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()[:16]
    return f"{re.sub(r'[^A-Za-z0-9_-]', '-', str(request_id))[:100]}-{digest}"


def stack_queue(queue, env=None):
    """cirrus-lib's naming: a bare queue name gets the feeder's ``${CIRRUS_STACK}-`` prefix.

    ARNs and names that already carry the prefix pass unchanged, so the dispatcher (which applies the same
    rule with its own CIRRUS_STACK) never doubles it.
    """
    stack = (os.environ if env is None else env).get("CIRRUS_STACK")
    if not queue or not stack or queue.startswith("arn:") or queue.startswith(f"{stack}-"):
        return queue
    return f"{stack}-{queue}"


def _payload_bucket(env):
    return env.get("PAYLOAD_BUCKET") or env.get("CIRRUS_PAYLOAD_BUCKET") or None


def _store_payload(s3, bucket, prefix, arn, body, payload_id):
    key = payload_key(prefix, _function_name(arn), payload_id)
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return f"s3://{bucket}/{key}"


def _store_items(s3, bucket, prefix, arn, payloads, set_id):
    fn = _function_name(arn)

    def put(i):
        body = _json(payloads[i], "payloads").encode("utf-8")
        s3.put_object(Bucket=bucket, Key=item_key(prefix, fn, set_id, i), Body=body, ContentType="application/json")

    with ThreadPoolExecutor(max_workers=ITEM_WRITE_CONCURRENCY) as pool:
        list(pool.map(put, range(len(payloads))))
    in_prefix = item_key(prefix, fn, set_id, 0)[: -len("0.json")]
    return f"s3://{bucket}/{in_prefix}"


def _raise_dispatcher_error(raw):
    try:
        err = json.loads(raw)
    except ValueError:
        err = None
    if not isinstance(err, dict):
        raise BatchDispatchError(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw))
    raise error_class(str(err.get("errorType") or "BatchDispatchError"))(str(err.get("errorMessage", "")))


def _client(service, env, region=None):
    import boto3
    from botocore.config import Config

    # A resent Invoke whose answer was lost could submit the job twice: the Invoke gets no retry at all
    # (a retried invocation of the caller resends it with the same idempotency key instead), and waits as long
    # as a Lambda can run (15 minutes). S3 writes are idempotent and keep boto3's standard retries.
    retries = {"mode": "standard", "total_max_attempts": 1} if service == "lambda" else {"mode": "standard", "max_attempts": 3}
    config = Config(read_timeout=900, retries=retries, max_pool_connections=ITEM_WRITE_CONCURRENCY)
    endpoint = env.get(f"AWS_ENDPOINT_URL_{service.upper()}") or env.get("AWS_ENDPOINT_URL")
    # Virtual-hosted bucket names cannot resolve on a local emulator or a bare IP.
    if service == "s3" and endpoint and _LOCAL_HOST.match(urlparse(endpoint).hostname or ""):
        config = config.merge(Config(s3={"addressing_style": "path"}))
    region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
    return boto3.client(service, config=config, region_name=region)


def submit_batch_job(
    payload,
    arn,
    queue=None,
    definition=None,
    name=None,
    vcpus=None,
    memory=None,
    *,
    image=None,
    gpus=None,
    timeout=None,
    attempts=None,
    dispatcher=None,
    idempotency_key=None,
    context=None,
    lambda_client=None,
    s3_client=None,
):
    """Submits ``payload`` to run function ``arn`` as a Batch job; returns the dispatcher's answer (a dict).

    The positional signature is cirrus-lib's. ``definition`` selects the image (see image_for_definition);
    A bare ``queue`` name gets the ``CIRRUS_STACK`` prefix, as cirrus-lib did (see stack_queue).
    The dispatcher is ``dispatcher`` or ``$BATCH_DISPATCHER_FUNCTION``. A request too large for a Lambda
    invoke is written to ``$PAYLOAD_BUCKET`` first and passed as ``url``. A dispatcher error is raised as
    a BatchDispatchError subclass named after its ``errorType``. Pass ``context`` (the handler's) or
    ``idempotency_key`` so that a retried invocation gets the same job instead of a second one; the Invoke
    itself is never retried.

    Example::

        from cirrus_batch import is_batch_job, submit_batch_job

        def handler(payload, context):
            if not is_batch_job() and len(payload["items"]) > 1000:
                return submit_batch_job(payload, context.invoked_function_arn, memory=8192, context=context)
            ...
    """
    options = dict(image=image, gpus=gpus, timeout=timeout, attempts=attempts)
    return _submit({"payload": payload}, arn, queue, definition, name, vcpus, memory, options,
                   dispatcher, idempotency_key, context, lambda_client, s3_client)


def submit_batch_jobs(
    payloads,
    arn,
    queue=None,
    definition=None,
    name=None,
    vcpus=None,
    memory=None,
    *,
    items_per_job=None,
    image=None,
    gpus=None,
    timeout=None,
    attempts=None,
    dispatcher=None,
    idempotency_key=None,
    context=None,
    lambda_client=None,
    s3_client=None,
):
    """Runs function ``arn`` once per event of ``payloads`` (1 to 10,000) as ONE Batch array job.

    The dispatcher stores the events as an item set and submits ``ceil(n / items_per_job)`` children, each
    running its items one after another in one warm runtime; item ``i``'s result lands at
    ``<url_out><i>.json``. Over the invoke limit the helper writes the items to ``$PAYLOAD_BUCKET`` itself
    and sends ``url`` + ``item_count``. Otherwise as submit_batch_job.

    Example::

        from cirrus_batch import submit_batch_jobs

        def handler(event, context):
            items = [{"type": "FeatureCollection", "features": [f]} for f in event["features"]]
            job = submit_batch_jobs(items, "arn:aws:lambda:us-west-2:123456789012:function:my-task",
                                    items_per_job=100, context=context)
            return {"job_id": job["job_id"], "children": job["array_size"]}
    """
    options = dict(items_per_job=items_per_job, image=image, gpus=gpus, timeout=timeout, attempts=attempts)
    return _submit({"payloads": list(payloads)}, arn, queue, definition, name, vcpus, memory, options,
                   dispatcher, idempotency_key, context, lambda_client, s3_client)


def _submit(body, arn, queue, definition, name, vcpus, memory, options, dispatcher, idempotency_key, context,
            lambda_client, s3_client):
    env = os.environ
    target = dispatcher or env.get("BATCH_DISPATCHER_FUNCTION")
    if not target:
        raise ConfigError("BATCH_DISPATCHER_FUNCTION is required (or pass dispatcher=)")
    request = {"lambda_function": arn, **body}
    fields = {
        "image": options.get("image") or image_for_definition(definition),
        "queue": stack_queue(queue, env),
        "name": name,
        "vcpus": vcpus,
        "memory": memory,
        "gpus": options.get("gpus"),
        "timeout": options.get("timeout"),
        "attempts": options.get("attempts"),
        "items_per_job": options.get("items_per_job"),
    }
    request.update({k: v for k, v in fields.items() if v is not None})
    request_id = getattr(context, "aws_request_id", None) if context is not None else None
    key = idempotency_key or (idempotency_key_for(request_id, request) if request_id else None)
    if key:
        # It names the objects staged below: checked here, before anything is written, as the dispatcher would.
        request["idempotency_key"] = _check_key(key)
    data = _json(request, "payloads" if "payloads" in request else "payload").encode("utf-8")
    if len(data) > MAX_INVOKE_BYTES:
        bucket = _payload_bucket(env)
        if not bucket:
            raise PayloadTooLargeError(
                f"the batch request is {len(data)} bytes, over the {MAX_INVOKE_BYTES}-byte limit of a "
                "synchronous Lambda invoke; set PAYLOAD_BUCKET so the helper can pass the payload through S3"
            )
        prefix = env.get("PAYLOAD_PREFIX") or DEFAULT_PAYLOAD_PREFIX
        s3 = s3_client or _client("s3", env)
        # Named by the key when there is one, so a retried call rewrites the same objects.
        object_id = key or str(uuid.uuid4())
        if "payloads" in request:
            payloads = request.pop("payloads")
            if not 1 <= len(payloads) <= MAX_ITEMS:
                raise error_class("InvalidRequestError")(
                    f"payloads: must hold 1 to {MAX_ITEMS} events, got {len(payloads)}"
                )
            request["url"] = _store_items(s3, bucket, prefix, arn, payloads, object_id)
            request["item_count"] = len(payloads)
        else:
            payload_body = _json(request.pop("payload")).encode("utf-8")
            request["url"] = _store_payload(s3, bucket, prefix, arn, payload_body, object_id)
        data = _json(request).encode("utf-8")
    # A dispatcher given as an ARN may live in another region than the feeder.
    client = lambda_client or _client("lambda", env, _region_of(target))
    logger.debug("asking dispatcher %s to run %s as a Batch job", target, arn)
    resp = client.invoke(FunctionName=target, InvocationType="RequestResponse", Payload=data)
    raw = resp["Payload"].read()
    if resp.get("FunctionError"):
        _raise_dispatcher_error(raw)
    return json.loads(raw)
