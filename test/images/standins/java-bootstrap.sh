#!/bin/sh
# Stand-in of the Java base's /var/runtime/bootstrap, which starts the Java runtime interface client with Lambda's
# JVM options (quick start: C1 only, the serial collector).
# AWS_LAMBDA_EXEC_WRAPPER applies as in the base (exec-wrapper.sh).
exec /var/runtime/exec-wrapper /var/lang/bin/java -XX:+TieredCompilation -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
  -cp /var/runtime/classes StandInRuntime
