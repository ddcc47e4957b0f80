#!/bin/sh
# Stand-in of the Node.js base's /var/runtime/bootstrap: NODE_PATH as Lambda sets it when none is given.
# AWS_LAMBDA_EXEC_WRAPPER applies as in the base (exec-wrapper.sh).
if [ -z "$NODE_PATH" ]; then
  export NODE_PATH="/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task"
fi
exec /var/runtime/exec-wrapper /var/lang/bin/node /var/runtime/index.mjs
