#!/usr/bin/env bash
# Runs once per bundle version on each worker. This bundle needs nothing beyond Python.
set -euo pipefail
python3 --version
