#!/bin/sh
# What the Lambda bases' bootstraps do with AWS_LAMBDA_EXEC_WRAPPER, for every stand-in bootstrap: with the variable
# set, the runtime starts through the wrapper, which gets the runtime's command and arguments; a wrapper that does not
# exist ends the runtime with 127, one that is not executable with 126. Without it, the command runs as it is.
if [ -z "$AWS_LAMBDA_EXEC_WRAPPER" ]; then
  exec "$@"
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
exec "$wrapper" "$@"
