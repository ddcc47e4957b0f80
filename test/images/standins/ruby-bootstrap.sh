#!/bin/sh
# Stand-in of the Ruby base's /var/runtime/bootstrap, which starts the Ruby runtime interface client.
# AWS_LAMBDA_EXEC_WRAPPER applies as in the base (exec-wrapper.sh).
exec /var/runtime/exec-wrapper /var/lang/bin/ruby /var/runtime/stand_in_runtime.rb
