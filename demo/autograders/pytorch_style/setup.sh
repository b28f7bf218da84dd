#!/usr/bin/env bash
# Runs once per bundle version on each worker. The demo bundles need nothing beyond Python.
set -euo pipefail
python3 --version
