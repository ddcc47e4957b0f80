# run-lambda's Python runtime client: loads the handler as Lambda does and serves invocations over the Runtime API.
# Standard library only; runs on any python3 >= 3.8.
import decimal
import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
PREFIX = "/2018-06-01/runtime"
CHUNK = 1 << 20


def _post(conn, path, body, headers=None):
    """POST bytes, or an iterable of bytes sent chunked so a large result is not copied again."""
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    if isinstance(body, (bytes, bytearray)):
        conn.request("POST", PREFIX + path, body=body, headers=hdrs)
    else:
        conn.request("POST", PREFIX + path, body=body, headers=hdrs, encode_chunked=True)
    resp = conn.getresponse()
    resp.read()
    if resp.status != 202:
        sys.stderr.write("run-lambda python client: POST %s answered %d\n" % (path, resp.status))


def _error_body(error_type, message, tb=None):
    stack = traceback.format_list(traceback.extract_tb(tb)) if tb is not None else []
    return json.dumps(
        {"errorType": error_type, "errorMessage": message, "stackTrace": stack}
    ).encode("utf-8")


def _report(exc_type_name, message, tb):
    # Lambda prints the failure to the function's log before reporting it.
    sys.stderr.write("[ERROR] %s: %s\n" % (exc_type_name, message))
    if tb is not None:
        sys.stderr.write("Traceback (most recent call last):\n" + "".join(traceback.format_tb(tb)))
    sys.stderr.flush()


def load_handler(handler):
    """`pkg/module.func` → the function, importing with the task root first on sys.path (as Lambda does)."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError:
        return None, ("Runtime.MalformedHandlerName", "Bad handler '%s': not enough values to unpack" % handler, None)
    modname = modname.replace("/", ".")
    try:
        module = importlib.import_module(modname)
    except ImportError as e:
        return None, ("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e), sys.exc_info()[2])
    except SyntaxError as e:
        return None, ("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e), sys.exc_info()[2])
    except Exception as e:  # noqa: BLE001 - any failure at import is the function's init failure
        return None, (type(e).__name__, str(e), sys.exc_info()[2])
    fn = getattr(module, fname, None)
    if fn is None:
        return None, ("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname), None)
    if not callable(fn):
        return None, ("Runtime.HandlerNotFound", "Handler '%s' on module '%s' is not callable" % (fname, modname), None)
    return fn, None


class LambdaContext(object):
    """The attributes and method of Lambda's Python context object."""

    def __init__(self, request_id, deadline_ms, invoked_arn):
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_arn
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,function_name=%s])" % (self.aws_request_id, self.function_name)


def _json_default(o):
    if isinstance(o, decimal.Decimal):
        return int(o) if o == o.to_integral_value() else float(o)
    raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)


def _chunks(text):
    for i in range(0, len(text), CHUNK):
        yield text[i : i + CHUNK].encode("utf-8")


def serve(handler_fn, compat):
    conn = http.client.HTTPConnection(API)
    while True:
        conn.request("GET", PREFIX + "/invocation/next")
        resp = conn.getresponse()
        body = resp.read()
        request_id = resp.getheader("Lambda-Runtime-Aws-Request-Id")
        deadline = int(resp.getheader("Lambda-Runtime-Deadline-Ms") or 0)
        arn = resp.getheader("Lambda-Runtime-Invoked-Function-Arn")
        trace = resp.getheader("Lambda-Runtime-Trace-Id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        base = "/invocation/%s" % request_id
        try:
            event = json.loads(body)
        except ValueError as e:
            del body
            _post(conn, base + "/error", _error_body("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e))
            continue
        del body
        try:
            if compat:
                result = handler_fn(event)
            else:
                result = handler_fn(event, LambdaContext(request_id, deadline, arn))
        except Exception as e:  # noqa: BLE001 - the handler's failure is reported, not raised
            tb = sys.exc_info()[2].tb_next
            _report(type(e).__name__, str(e), tb)
            _post(conn, base + "/error", _error_body(type(e).__name__, str(e), tb))
            continue
        try:
            text = json.dumps(result, default=_json_default, ensure_ascii=False)
            payload = _chunks(text) if len(text) > CHUNK else text.encode("utf-8")
        except (TypeError, ValueError, UnicodeEncodeError) as e:
            _report("Runtime.MarshalError", "Unable to marshal response: %s" % e, None)
            _post(conn, base + "/error", _error_body("Runtime.MarshalError", "Unable to marshal response: %s" % e))
            continue
        del result
        _post(conn, base + "/response", payload)


def main():
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    # Python put this client's own folder first; Lambda puts the task root there.
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        sys.path[0] = task_root
    else:
        sys.path.insert(0, task_root)
    handler_fn, err = load_handler(os.environ.get("_HANDLER", ""))
    if err is not None:
        error_type, message, tb = err
        _report(error_type, message, tb)
        conn = http.client.HTTPConnection(API)
        _post(conn, "/init/error", _error_body(error_type, message, tb),
              {"Lambda-Runtime-Function-Error-Type": error_type})
        sys.exit(1)
    serve(handler_fn, os.environ.get("RUN_LAMBDA_COMPAT") == "cirrus-v0")


if __name__ == "__main__":
    main()
