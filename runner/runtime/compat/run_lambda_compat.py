# run-lambda's cirrus-v0 shim for Python: the runtime's client (the image's awslambdaric, or the runner's own)
# loads this module as the handler; it loads the function's real handler (RUN_LAMBDA_COMPAT_HANDLER) as Lambda's
# client would and calls it with the event alone, as cirrusgeo/run-lambda 0.2 did. Failures read as the client's
# own: the exception classes are named like its fault types (awslambdaric reports a failure by its type's name),
# and messages name the real module and handler.
import importlib
import os


def _fault(error_type, message):
    return type(error_type, (Exception,), {"__module__": "builtins"})(message)


_real = os.environ.get("RUN_LAMBDA_COMPAT_HANDLER", "")
os.environ["_HANDLER"] = _real
try:
    _modname, _fname = _real.rsplit(".", 1)
except ValueError as e:
    raise _fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (_real, e)) from None
_modname = ".".join(x for x in _modname.split("/") if x)
try:
    _module = importlib.import_module(_modname)
except ImportError as e:
    raise _fault("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (_modname, e)) from None
except SyntaxError as e:
    raise _fault("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (_modname, e)) from None
_fn = getattr(_module, _fname, None)


def handler(event, context=None):
    if _fn is None:
        raise _fault("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (_fname, _modname))
    return _fn(event)
