"""Re-submit a Lambda's payload as an AWS Batch job through the dispatcher: the Python half of the helper layer.

A Python feeder (cirrus-lib style) calls ``submit_batch_job(payload, context.invoked_function_arn)`` and
returns; the dispatcher stores the payload and submits the job that runs the same function in Batch.
Standard library and boto3 only: both are in every Lambda Python runtime, so the layer ships this one file.
"""

import json
import logging
import os
import re
import uuid
from urllib.parse import urlparse

__all__ = [
    "BatchDispatchError",
    "ConfigError",
    "PayloadTooLargeError",
    "error_class",
    "image_for_definition",
    "is_batch_job",
    "payload_key",
    "stack_queue",
    "submit_batch_job",
]

logger = logging.getLogger(__name__)

# Lambda refuses a synchronous request over 6 MiB (6291456 bytes); stay well under it so the envelope fits.
MAX_INVOKE_BYTES = 6_000_000
DEFAULT_PAYLOAD_PREFIX = "batch/"


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
    """True inside an AWS Batch job (Batch sets ``AWS_BATCH_JOB_ID``); feeders then run inline."""
    env = os.environ if environ is None else environ
    return bool(env.get("AWS_BATCH_JOB_ID"))


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


# Lambda's FunctionName forms: name, name:qualifier, 123456789012:function:name, or a full ARN.
_FUNCTION = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:)?(?:[a-z]{2}(?:-gov)?-[a-z]+-\d:)?(?:\d{12}:)?(?:function:)?"
    r"([a-zA-Z0-9_-]{1,64})(?::(?:\$LATEST|[a-zA-Z0-9_-]{1,128}))?$"
)


def _function_name(arn):
    m = _FUNCTION.match(arn)
    if not m:
        raise ValueError(f"not a Lambda function name or ARN: {arn!r}")
    return m.group(1)


def payload_key(prefix, function_name, payload_id):
    """``<prefix><function-name>/<id>.json``, the dispatcher's layout (lib/payload-store.ts), never ``//``."""
    p = prefix.lstrip("/")
    if p and not p.endswith("/"):
        p += "/"
    return f"{p}{function_name}/{payload_id}.json"


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


def _store_payload(s3, bucket, prefix, arn, body):
    key = payload_key(prefix, _function_name(arn), uuid.uuid4())
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return f"s3://{bucket}/{key}"


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

    # A retried synchronous invoke after a read timeout could submit the job twice: wait as long as a
    # Lambda can run (15 minutes) and retry only what never reached the dispatcher (throttling, 5xx).
    config = Config(read_timeout=900, retries={"mode": "standard", "max_attempts": 3})
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
    lambda_client=None,
    s3_client=None,
):
    """Submits ``payload`` to run function ``arn`` as a Batch job; returns the dispatcher's answer (a dict).

    The positional signature is cirrus-lib's. ``definition`` selects the image (see image_for_definition);
    A bare ``queue`` name gets the ``CIRRUS_STACK`` prefix, as cirrus-lib did (see stack_queue).
    The dispatcher is ``dispatcher`` or ``$BATCH_DISPATCHER_FUNCTION``. A request too large for a Lambda
    invoke is written to ``$PAYLOAD_BUCKET`` first and passed as ``url``. A dispatcher error is raised as
    a BatchDispatchError subclass named after its ``errorType``.

    Example::

        from cirrus_batch import is_batch_job, submit_batch_job

        def handler(payload, context):
            if not is_batch_job() and len(payload["items"]) > 1000:
                return submit_batch_job(payload, context.invoked_function_arn, memory=8192)
            ...
    """
    env = os.environ
    target = dispatcher or env.get("BATCH_DISPATCHER_FUNCTION")
    if not target:
        raise ConfigError("BATCH_DISPATCHER_FUNCTION is required (or pass dispatcher=)")
    request = {"lambda_function": arn, "payload": payload}
    options = {
        "image": image or image_for_definition(definition),
        "queue": stack_queue(queue, env),
        "name": name,
        "vcpus": vcpus,
        "memory": memory,
        "gpus": gpus,
        "timeout": timeout,
        "attempts": attempts,
    }
    request.update({k: v for k, v in options.items() if v is not None})
    body = json.dumps(request, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_INVOKE_BYTES:
        bucket = _payload_bucket(env)
        if not bucket:
            raise PayloadTooLargeError(
                f"the batch request is {len(body)} bytes, over the {MAX_INVOKE_BYTES}-byte limit of a "
                "synchronous Lambda invoke; set PAYLOAD_BUCKET so the helper can pass the payload through S3"
            )
        payload_body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        prefix = env.get("PAYLOAD_PREFIX") or DEFAULT_PAYLOAD_PREFIX
        s3 = s3_client or _client("s3", env)
        del request["payload"]
        request["url"] = _store_payload(s3, bucket, prefix, arn, payload_body)
        body = json.dumps(request, separators=(",", ":")).encode("utf-8")
    # A dispatcher given as an ARN may live in another region than the feeder.
    arn_region = re.match(r"^arn:aws[\w-]*:lambda:([a-z0-9-]+):", target)
    client = lambda_client or _client("lambda", env, arn_region.group(1) if arn_region else None)
    logger.debug("asking dispatcher %s to run %s as a Batch job", target, arn)
    resp = client.invoke(FunctionName=target, InvocationType="RequestResponse", Payload=body)
    raw = resp["Payload"].read()
    if resp.get("FunctionError"):
        _raise_dispatcher_error(raw)
    return json.loads(raw)
