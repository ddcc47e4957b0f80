#!/bin/sh
# Stand-in of the Ruby base's /var/runtime/bootstrap, which starts the Ruby runtime interface client.
exec /var/lang/bin/ruby /var/runtime/stand_in_runtime.rb
