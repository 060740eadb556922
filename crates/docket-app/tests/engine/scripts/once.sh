#!/bin/sh
# `once.sh LOG`: appends "attempt" to the file LOG; the first attempt then works for a minute,
# any later one ends at once.
echo attempt >> "$1"
if [ "$(wc -l < "$1")" -eq 1 ]; then sleep 60; fi
