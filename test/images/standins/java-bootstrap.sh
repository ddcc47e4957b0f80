#!/bin/sh
# Stand-in of the Java base's /var/runtime/bootstrap, which starts the Java runtime interface client with Lambda's
# JVM options (quick start: C1 only, the serial collector).
exec /var/lang/bin/java -XX:+TieredCompilation -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
  -cp /var/runtime/classes StandInRuntime
