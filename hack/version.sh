#!/bin/sh
# Prints nodecred's version for the build: `git describe` of the newest v*
# tag without the v (0.1.0, or 0.1.0-3-g0123abcd3456 after it), else
# 0.0.0-dev+COMMIT; +dirty or .dirty when the work tree has changes.
# Outside a git checkout: 0.0.0-dev.
set -eu
cd "$(dirname "$0")/.."
commit=$(git rev-parse --short=12 HEAD 2>/dev/null) || { echo 0.0.0-dev; exit 0; }
if v=$(git describe --tags --match 'v[0-9]*' --abbrev=12 --dirty=+dirty 2>/dev/null); then
	echo "${v#v}"
	exit 0
fi
dirty=
git diff --quiet HEAD -- 2>/dev/null || dirty=.dirty
echo "0.0.0-dev+$commit$dirty"
