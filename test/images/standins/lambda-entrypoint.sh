#!/bin/sh
# Stand-in of the Lambda base images' entrypoint: the handler is the one argument; with AWS_LAMBDA_RUNTIME_API
# set it starts the runtime's client (the real one starts the runtime interface emulator otherwise).
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  echo "stand-in base: no runtime interface emulator here; set AWS_LAMBDA_RUNTIME_API" 1>&2
  exit 1
fi
exec /var/runtime/bootstrap
