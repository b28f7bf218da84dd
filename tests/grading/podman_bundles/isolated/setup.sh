#!/usr/bin/env bash
# Gradescope's advice: a user without privileges to run the student's code as.
set -euo pipefail
adduser student --no-create-home --disabled-password --gecos ""
