#!/bin/sh
# Leaves a background process holding stdout and stderr, then exits successfully.
sleep 1000 &
echo "$$ $!" > "$1.tmp"
mv "$1.tmp" "$1"
echo started
