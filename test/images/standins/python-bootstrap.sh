#!/bin/sh
# Stand-in of the Python base's /var/runtime/bootstrap (which starts awslambdaric), AWS_LAMBDA_EXEC_WRAPPER included:
# the base's bootstrap starts the runtime through the wrapper, handing it the interpreter and its arguments, with
# these checks and exit codes.
if [ -z "$AWS_LAMBDA_EXEC_WRAPPER" ]; then
  exec /var/lang/bin/python3 /var/runtime/bootstrap.py
fi
wrapper="$AWS_LAMBDA_EXEC_WRAPPER"
if [ ! -f "$wrapper" ]; then
  echo "$wrapper: does not exist"
  exit 127
fi
if [ ! -x "$wrapper" ]; then
  echo "$wrapper: is not an executable"
  exit 126
fi
exec "$wrapper" /var/lang/bin/python3 /var/runtime/bootstrap.py
