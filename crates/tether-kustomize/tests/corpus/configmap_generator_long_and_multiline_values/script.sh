#!/bin/sh
set -eu
echo "starting $1"
for i in 1 2 3; do
  echo "  step $i"
done
