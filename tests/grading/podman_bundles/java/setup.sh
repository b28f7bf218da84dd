#!/usr/bin/env bash
# A JDK from Debian, as a Java course's autograder would install it.
set -euo pipefail
# openjdk's postinst links its man pages; minimal images may lack the folder.
mkdir -p /usr/share/man/man1
apt-get update -q
apt-get install -y -q --no-install-recommends openjdk-17-jdk-headless
rm -rf /var/lib/apt/lists/*
javac -version
