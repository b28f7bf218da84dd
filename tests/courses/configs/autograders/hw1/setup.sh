#!/usr/bin/env bash
# Installs what the HW1 tests need; runs once per bundle version per worker.
set -euo pipefail
