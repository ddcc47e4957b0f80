#!/bin/sh
# Stand-in of the Python base's /var/runtime/bootstrap (which starts awslambdaric), through AWS_LAMBDA_EXEC_WRAPPER
# when it is set (exec-wrapper.sh).
exec /var/runtime/exec-wrapper /var/lang/bin/python3 /var/runtime/bootstrap.py
