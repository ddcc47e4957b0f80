# run-lambda's Python runtime client: loads the handler as Lambda does and serves invocations over the Runtime API.
# Standard library only; runs on any python3 >= 3.8.
# Imports are kept few and cheap (no http.client: it pulls in ssl and email, ~40 ms): this runs on every start.
import importlib
import json
import os
import socket
import sys
import time

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
PREFIX = "/2018-06-01/runtime"
CHUNK = 1 << 20


class Api(object):
    """A minimal HTTP/1.1 keep-alive client for the Runtime API (the runner's own server, on 127.0.0.1)."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.addr = (host, int(port))
        self.sock = None

    def request(self, method, path, body=b"", headers=None):
        """`body` is bytes, or an iterable of bytes sent chunked. Returns (status, headers, body)."""
        if self.sock is None:
            self.sock = socket.create_connection(self.addr)
            self.file = self.sock.makefile("rb")
        head = "%s %s%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n" % (
            (method, PREFIX, path) + self.addr)
        for k, v in (headers or {}).items():
            head += "%s: %s\r\n" % (k, v)
        if isinstance(body, (bytes, bytearray)):
            self.sock.sendall(("%sContent-Length: %d\r\n\r\n" % (head, len(body))).encode("latin-1") + body)
        else:
            self.sock.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode("latin-1"))
            for part in body:
                if part:
                    self.sock.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
            self.sock.sendall(b"0\r\n\r\n")
        status = int(self.file.readline().split()[1])
        hdrs = {}
        while True:
            line = self.file.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if "content-length" in hdrs:
            data = self.file.read(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.file.readline().split(b";")[0], 16)
                if size == 0:
                    self.file.readline()
                    break
                parts.append(self.file.read(size))
                self.file.readline()
            data = b"".join(parts)
        else:
            data = self.file.read()
        if hdrs.get("connection", "").lower() == "close":
            self.file.close()
            self.sock.close()
            self.sock = None
        return status, hdrs, data


def _post(api, path, body, headers=None):
    status, _, _ = api.request("POST", path, body, headers)
    if status != 202:
        sys.stderr.write("run-lambda python client: POST %s answered %d\n" % (path, status))


def _error_body(error_type, message, tb=None):
    import traceback

    stack = traceback.format_list(traceback.extract_tb(tb)) if tb is not None else []
    return json.dumps(
        {"errorType": error_type, "errorMessage": message, "stackTrace": stack}
    ).encode("utf-8")


def _report(exc_type_name, message, tb):
    # Lambda prints the failure to the function's log before reporting it.
    sys.stderr.write("[ERROR] %s: %s\n" % (exc_type_name, message))
    if tb is not None:
        import traceback

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


def _ascii_only():
    """Lambda's own client writes non-ASCII characters as they are from python3.12 on, and escapes them before."""
    env = os.environ.get("AWS_EXECUTION_ENV", "")
    prefix = "AWS_Lambda_python3."
    minor = env[len(prefix):] if env.startswith(prefix) else ""
    return minor.isdigit() and int(minor) < 12


ASCII_ONLY = _ascii_only()


def _json_default(o):
    import decimal

    if isinstance(o, decimal.Decimal):
        return int(o) if o == o.to_integral_value() else float(o)
    raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)


def _chunks(text):
    for i in range(0, len(text), CHUNK):
        yield text[i : i + CHUNK].encode("utf-8")


def serve(handler_fn, compat):
    conn = Api(API)
    while True:
        _, headers, body = conn.request("GET", "/invocation/next")
        request_id = headers.get("lambda-runtime-aws-request-id")
        deadline = int(headers.get("lambda-runtime-deadline-ms") or 0)
        arn = headers.get("lambda-runtime-invoked-function-arn")
        trace = headers.get("lambda-runtime-trace-id")
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
            text = json.dumps(result, default=_json_default, ensure_ascii=ASCII_ONLY)
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
        _post(Api(API), "/init/error", _error_body(error_type, message, tb),
              {"Lambda-Runtime-Function-Error-Type": error_type})
        sys.exit(1)
    serve(handler_fn, os.environ.get("RUN_LAMBDA_COMPAT") == "cirrus-v0")


if __name__ == "__main__":
    main()
