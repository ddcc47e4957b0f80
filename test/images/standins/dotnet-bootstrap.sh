#!/bin/bash
# Stand-in of the .NET base's /var/runtime/bootstrap. Debian packages no .NET, so this stand-in has none: it reports
# that to the Runtime API as the function's init error, which shows that the runner handed the function to the base's
# own runtime client (the real base's bootstrap starts Amazon.Lambda.RuntimeSupport on .NET).
set -eu
host=${AWS_LAMBDA_RUNTIME_API%:*}
port=${AWS_LAMBDA_RUNTIME_API##*:}
body='{"errorType":"Runtime.StandInWithoutDotnet","errorMessage":"this stand-in of public.ecr.aws/lambda/dotnet carries no .NET (Debian packages none); the real base runs the function","stackTrace":[]}'
exec 3<>"/dev/tcp/$host/$port"
printf 'POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
  "$AWS_LAMBDA_RUNTIME_API" "${#body}" "$body" >&3
read -r _status <&3 || true
exit 1
