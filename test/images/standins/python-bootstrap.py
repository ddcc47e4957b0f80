# Stand-in of awslambdaric, the Python base images' runtime client: loads _HANDLER the way it does (same error
# types and messages) and always calls handler(event, context). Only what the image tests need.
import importlib
import json
import os
import sys
import time
import traceback
import urllib.request

API = "http://%s/2018-06-01/runtime" % os.environ["AWS_LAMBDA_RUNTIME_API"]
# awslambdaric escapes non-ASCII characters in results up to python3.11 and writes them as UTF-8 from python3.12 on.
ASCII_RUNTIMES = {"AWS_Lambda_python3.8", "AWS_Lambda_python3.9", "AWS_Lambda_python3.10", "AWS_Lambda_python3.11"}
ENSURE_ASCII = os.environ.get("AWS_EXECUTION_ENV") in ASCII_RUNTIMES


class Fault(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def post(path, body):
    req = urllib.request.Request(API + path, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


def error_body(error_type, message, tb=None):
    stack = traceback.format_list(traceback.extract_tb(tb)) if tb is not None else []
    return json.dumps({"errorType": error_type, "errorMessage": message, "stackTrace": stack}).encode()


def load(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise Fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e))
    modname = ".".join(x for x in modname.split("/") if x)
    try:
        module = importlib.import_module(modname)
    except ImportError as e:
        raise Fault("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        raise Fault("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e))
    fn = getattr(module, fname, None)
    if fn is None:
        def missing(event, context):
            raise Fault("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))
        return missing
    return fn


class Context(object):
    def __init__(self, headers):
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline - time.time() * 1000), 0)


def type_of(e):
    return e.error_type if isinstance(e, Fault) else type(e).__name__


def main():
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", "/var/task"))
    try:
        handler = load(os.environ["_HANDLER"])
    except Exception as e:  # noqa: BLE001 - awslambdaric reports any init failure by its type name
        post("/init/error", error_body(type_of(e), str(e), sys.exc_info()[2]))
        sys.exit(1)
    while True:
        with urllib.request.urlopen(API + "/invocation/next") as res:
            headers, body = res.headers, res.read()
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        try:
            result = handler(json.loads(body), Context(headers))
            post("/invocation/%s/response" % request_id, json.dumps(result, ensure_ascii=ENSURE_ASCII).encode("utf-8"))
        except Exception as e:  # noqa: BLE001
            sys.stderr.write("[ERROR] %s: %s\n" % (type_of(e), e))
            post("/invocation/%s/error" % request_id, error_body(type_of(e), str(e), sys.exc_info()[2]))


main()
