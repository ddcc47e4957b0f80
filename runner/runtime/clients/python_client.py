# run-lambda's Python runtime client: loads the handler as Lambda does and serves invocations over the Runtime API.
# Standard library only; runs on any python3 >= 3.8. Behaviour follows Lambda's own Python client (awslambdaric):
# its logging handler and formats, its error types and messages, bytes and Decimal results.
# Imports are kept few and cheap (no http.client: it pulls in ssl and email, ~40 ms): this runs on every start.
# logging is the one exception: Lambda's client puts a handler on the root logger, so functions expect one.
import importlib
import json
import logging
import os
import re  # logging imports it anyway
import socket
import sys
import time

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
PREFIX = "/2018-06-01/runtime"
CHUNK = 1 << 20
JSON_LOGS = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


class Api(object):
    """A minimal HTTP/1.1 keep-alive client for the Runtime API (the runner's own server)."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.addr = (host.strip("[]"), int(port))
        self.sock = None

    def request(self, method, path, body=b"", headers=None):
        """`body` is bytes, or an iterable of bytes sent chunked. Returns (status, headers, body)."""
        if self.sock is None:
            self.sock = socket.create_connection(self.addr)
            self.file = self.sock.makefile("rb")
        head = "%s %s%s HTTP/1.1\r\nHost: %s:%d\r\n" % ((method, PREFIX, path) + self.addr)
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        for k, v in hdrs.items():
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
        # The runner ends the invocation whatever it answered; the next `next` simply waits.
        sys.stderr.write("run-lambda python client: POST %s answered %d\n" % (path, status))


# --- logging: the root logger's handler and formats, as Lambda's Python client sets them up ---------------------

_request_id = None
_tenant_id = None


class _RequestFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id or ""
        record.tenant_id = _tenant_id
        return True


_RESERVED = {
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info", "exc_text",
    "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread", "threadName",
    "processName", "process", "aws_request_id", "tenant_id", "taskName",
}


class _JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, message, logger, requestId, and the record's extras."""

    def format(self, record):
        level = min(50, max(0, record.levelno)) // 10 * 10
        exc = record.exc_info
        import traceback

        stamp = time.strftime(_DATETIME_FORMAT, time.gmtime(record.created)) + ".%03dZ" % int(record.msecs)
        result = {
            "timestamp": stamp,
            "level": logging.getLevelName(level),
            "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc[2]) if exc else None,
            "errorType": exc[0].__name__ if exc else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": "%s:%s:%s" % (record.pathname, record.funcName, record.lineno) if exc else None,
        }
        if getattr(record, "tenant_id", None) is not None:
            result["tenantId"] = record.tenant_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key not in result:
                result[key] = value
        result = dict((k, v) for k, v in result.items() if v is not None)
        return json.dumps(result, ensure_ascii=False, default=str) + "\n"


class _StdoutHandler(logging.Handler):
    def emit(self, record):
        try:
            sys.stdout.write(self.format(record))
            sys.stdout.flush()
        except Exception:  # noqa: BLE001 - logging must never fail the handler
            self.handleError(record)


def _setup_logging():
    # Lambda: TRACE maps to DEBUG; unset leaves the root logger at WARNING (a logger's own level still counts).
    level = {None: "", "TRACE": "DEBUG"}.get(os.environ.get("AWS_LAMBDA_LOG_LEVEL"), os.environ.get("AWS_LAMBDA_LOG_LEVEL"))
    level = (level or "").upper()
    handler = _StdoutHandler()
    if JSON_LOGS:
        handler.setFormatter(_JsonFormatter())
    else:
        formatter = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", _DATETIME_FORMAT
        )
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    handler.addFilter(_RequestFilter())
    root = logging.getLogger()
    if level in logging._nameToLevel:  # noqa: SLF001 - the same test Lambda's client makes
        root.setLevel(level)
    root.addHandler(handler)


def _error_body(error_type, message, stack=None):
    return json.dumps(
        {"errorType": error_type, "errorMessage": message, "requestId": _request_id or "", "stackTrace": stack or []}
    ).encode("utf-8")


def _stack(tb):
    import traceback

    return traceback.format_list(traceback.extract_tb(tb)) if tb is not None else []


def _report(error_type, message, stack):
    """Lambda prints the failure to the function's log before reporting it: a JSON line, or `[ERROR] Type: msg`."""
    if JSON_LOGS:
        line = json.dumps(
            {
                "timestamp": time.strftime(_DATETIME_FORMAT, time.gmtime()),
                "level": "ERROR",
                "errorMessage": message,
                "errorType": error_type,
                "requestId": _request_id or "",
                "stackTrace": stack,
            },
            ensure_ascii=False,
        )
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return
    text = "[ERROR] %s: %s\n" % (error_type, message)
    if stack:
        text += "Traceback (most recent call last):\n" + "".join(stack)
    sys.stderr.write(text)
    sys.stderr.flush()


# --- the handler ----------------------------------------------------------------------------------------------

def load_handler(handler):
    """`pkg/module.func` → the function, importing with the task root first on sys.path (as Lambda does)."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        return None, ("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e), None)
    if modname.split(".")[0] in sys.builtin_module_names:
        return None, (
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module %s as a handler module" % modname,
            None,
        )
    dotted = modname.replace("/", ".")
    try:
        module = importlib.import_module(dotted)
    except ImportError as e:
        return None, ("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e), _stack(sys.exc_info()[2]))
    except SyntaxError as e:
        return None, ("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e), _stack(sys.exc_info()[2]))
    except Exception as e:  # noqa: BLE001 - any failure at import is the function's init failure
        return None, (type(e).__name__, str(e), _stack(sys.exc_info()[2]))
    fn = getattr(module, fname, None)
    if fn is None:
        return None, ("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname), None)
    if not callable(fn):
        return None, ("Runtime.HandlerNotFound", "Handler '%s' on module '%s' is not callable" % (fname, modname), None)
    return fn, None


class _Fields(object):
    """An object whose attributes are `__slots__`, filled from a dict (missing keys are None)."""

    __slots__ = ()

    def __init__(self, data=None):
        data = data if isinstance(data, dict) else {}
        for name in self.__slots__:
            setattr(self, name, data.get(name))


class Client(_Fields):
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")


class ClientContext(_Fields):
    __slots__ = ("client", "custom", "env")

    def __init__(self, data=None):
        _Fields.__init__(self, data)
        if self.client is not None:
            self.client = Client(self.client)


class CognitoIdentity(_Fields):
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, data=None):
        data = data if isinstance(data, dict) else {}
        _Fields.__init__(self, data)
        # The header may spell them as Lambda's Node.js context does.
        self.cognito_identity_id = self.cognito_identity_id or data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = self.cognito_identity_pool_id or data.get("cognitoIdentityPoolId")


class LambdaContext(object):
    """The attributes and method of Lambda's Python context object."""

    def __init__(self, request_id, deadline_ms, invoked_arn, tenant_id=None, client_context=None, identity=None):
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_arn
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.tenant_id = tenant_id
        self.identity = CognitoIdentity(identity)
        self.client_context = ClientContext(client_context) if client_context is not None else None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,function_name=%s])" % (self.aws_request_id, self.function_name)


# --- events in, results out -----------------------------------------------------------------------------------

def _ascii_only():
    """Lambda's own client writes non-ASCII characters as they are from python3.12 on, and escapes them before."""
    env = os.environ.get("AWS_EXECUTION_ENV", "")
    prefix = "AWS_Lambda_python3."
    minor = env[len(prefix):] if env.startswith(prefix) else ""
    return minor.isdigit() and int(minor) < 12


ASCII_ONLY = _ascii_only()


class UnmarshalError(Exception):
    pass


def _no_constants(name):
    # Python's json reads NaN and Infinity; JSON (and Lambda's Invoke) does not.
    raise UnmarshalError("%s is not valid JSON" % name)


def unmarshal(body):
    """The event, or UnmarshalError with a message that quotes none of the payload."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UnmarshalError("the event is not valid UTF-8 (at byte %d)" % e.start)
    try:
        return json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise UnmarshalError("the event nests deeper than the Python JSON parser can follow (maximum recursion depth exceeded)")
    except json.JSONDecodeError as e:
        # Its message names a position only ("Expecting value: line 1 column 1 (char 0)").
        raise UnmarshalError("%s: line %d column %d (char %d)" % (e.msg, e.lineno, e.colno, e.pos))


def marshal(result):
    """(body, content type): bytes as they are; anything else as JSON, Decimals with all their digits."""
    if isinstance(result, (bytes, bytearray)):
        return bytes(result), "application/unknown"
    decimals = []
    nonce = os.urandom(8).hex()

    def default(o):
        import decimal

        if isinstance(o, decimal.Decimal):
            if not o.is_finite():
                raise ValueError("Out of range Decimal values are not JSON compliant: %s" % o)
            decimals.append(str(o))
            # A placeholder string, replaced by the Decimal's own digits below (json has no raw values).
            return "\0%s%d\0" % (nonce, len(decimals) - 1)
        raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)

    text = json.dumps(result, default=default, ensure_ascii=ASCII_ONLY, allow_nan=False)
    if decimals:
        text = re.sub(r'"\\u0000%s(\d+)\\u0000"' % nonce, lambda m: decimals[int(m.group(1))], text)
    return text, "application/json"


def _chunks(text):
    for i in range(0, len(text), CHUNK):
        yield text[i : i + CHUNK].encode("utf-8")


class _HeaderError(Exception):
    pass


def _json_header(headers, name, label):
    value = headers.get(name)
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError as e:
        raise _HeaderError("Unable to parse %s JSON: %s" % (label, e))


def serve(handler_fn):
    global _request_id, _tenant_id
    conn = Api(API)
    while True:
        _, headers, body = conn.request("GET", "/invocation/next")
        _request_id = headers.get("lambda-runtime-aws-request-id")
        _tenant_id = headers.get("lambda-runtime-aws-tenant-id")
        deadline = int(headers.get("lambda-runtime-deadline-ms") or 0)
        arn = headers.get("lambda-runtime-invoked-function-arn")
        trace = headers.get("lambda-runtime-trace-id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        base = "/invocation/%s" % _request_id
        try:
            context = LambdaContext(
                _request_id,
                deadline,
                arn,
                _tenant_id,
                _json_header(headers, "lambda-runtime-client-context", "Client Context"),
                _json_header(headers, "lambda-runtime-cognito-identity", "Cognito Identity"),
            )
            event = unmarshal(body)
        except (UnmarshalError, _HeaderError) as e:
            del body
            error_type = "Runtime.LambdaContextUnmarshalError" if isinstance(e, _HeaderError) else "Runtime.UnmarshalError"
            message = str(e) if isinstance(e, _HeaderError) else "Unable to unmarshal input: %s" % e
            _report(error_type, message, [])
            _post(conn, base + "/error", _error_body(error_type, message))
            continue
        del body
        try:
            result = handler_fn(event, context)
        except Exception as e:  # noqa: BLE001 - the handler's failure is reported, not raised
            stack = _stack(sys.exc_info()[2].tb_next)
            _report(type(e).__name__, str(e), stack)
            _post(conn, base + "/error", _error_body(type(e).__name__, str(e), stack))
            continue
        del event
        try:
            text, content_type = marshal(result)
            if isinstance(text, bytes):
                payload = text
            elif len(text) > CHUNK:
                # A lone surrogate would fail only when its chunk is encoded: find it now, not mid-upload.
                if not text.isascii():
                    for _ in _chunks(text):
                        pass
                payload = _chunks(text)
            else:
                payload = text.encode("utf-8")
        except (TypeError, ValueError, RecursionError, UnicodeEncodeError) as e:
            message = "Unable to marshal response: %s" % e
            _report("Runtime.MarshalError", message, [])
            _post(conn, base + "/error", _error_body("Runtime.MarshalError", message))
            continue
        del result
        _post(conn, base + "/response", payload, {"Content-Type": content_type})


def main():
    _setup_logging()
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    # Python put this client's own folder first; Lambda puts the task root there.
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        sys.path[0] = task_root
    else:
        sys.path.insert(0, task_root)
    handler_fn, err = load_handler(os.environ.get("_HANDLER", ""))
    if err is not None:
        error_type, message, stack = err
        _report(error_type, message, stack)
        _post(Api(API), "/init/error", _error_body(error_type, message, stack),
              {"Lambda-Runtime-Function-Error-Type": error_type})
        sys.exit(1)
    serve(handler_fn)


if __name__ == "__main__":
    main()
