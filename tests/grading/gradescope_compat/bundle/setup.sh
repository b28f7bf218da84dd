#!/usr/bin/env bash
# Run once when the autograder image is built. Real bundles install Python and
# `pip3 install -r /autograder/source/requirements.txt` (gradescope-utils) here; this one
# vendors the helpers under gradescope_utils/, so it needs only a Python 3 interpreter.
set -euo pipefail

if ! command -v python3 >/dev/null 2>&1; then
    apt-get update
    apt-get install -y python3
fi
