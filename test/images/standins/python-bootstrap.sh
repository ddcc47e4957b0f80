#!/bin/sh
# Stand-in of the Python base's /var/runtime/bootstrap (which starts awslambdaric).
exec /var/lang/bin/python3 /var/runtime/bootstrap.py
