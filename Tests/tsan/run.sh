#!/usr/bin/env bash
# Tests/tsan/run.sh: the thread-sharing tests (ThreadSharingTests), built and
# run under ThreadSanitizer in their own build folder (.build-tsan). Any
# ThreadSanitizer report fails the suite (Tests/run-all.sh checks the log).
set -eu
cd "$(dirname "$0")/../.."
SWIFT=${SWIFT:-swift}
$SWIFT build --sanitize=thread --scratch-path .build-tsan --product libmembranePackageTests
exec bash Tests/with-mock.sh $SWIFT test --skip-build --sanitize=thread --scratch-path .build-tsan \
    --filter ThreadSharingTests
