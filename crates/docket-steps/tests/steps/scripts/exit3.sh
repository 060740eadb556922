#!/bin/sh
# One line on each stream, then exit code 3.
echo out
echo err >&2
exit 3
