#!/bin/sh
# Stand-in of the Node.js base's /var/runtime/bootstrap: NODE_PATH as Lambda sets it when none is given.
if [ -z "$NODE_PATH" ]; then
  export NODE_PATH="/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task"
fi
exec /var/lang/bin/node /var/runtime/index.mjs
