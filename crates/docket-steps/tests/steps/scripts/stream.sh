#!/bin/sh
# Prints a line, pauses, prints another: the first must reach the log before the second.
echo first
sleep 1
echo second
