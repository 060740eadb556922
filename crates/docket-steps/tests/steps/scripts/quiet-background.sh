#!/bin/sh
# Leaves a background process that does not hold the pipes, then exits successfully.
sleep 1000 >/dev/null 2>&1 &
echo "$$ $!" > "$1.tmp"
mv "$1.tmp" "$1"
echo started
