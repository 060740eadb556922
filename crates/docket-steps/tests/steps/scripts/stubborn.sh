#!/bin/sh
# Like grandchild.sh, but it and its children ignore SIGTERM: only SIGKILL stops them.
trap '' TERM
sleep 1000 &
echo "$$ $!" > "$1.tmp"
mv "$1.tmp" "$1"
sleep 1000
