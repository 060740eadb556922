#!/bin/sh
# Starts a grandchild, writes "<own pid> <grandchild pid>" to the file named by $1, then waits.
sleep 1000 &
echo "$$ $!" > "$1.tmp"
mv "$1.tmp" "$1"
sleep 1000
