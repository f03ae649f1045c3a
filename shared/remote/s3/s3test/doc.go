// Package s3test starts a real S3 gateway (versitygw with its POSIX backend) for tests.
//
// The binary is found through $XBR_VERSITYGW, then PATH (scripts/tool-versitygw.sh installs
// it). When it is missing the test is skipped, or fails when XBR_TEST_NO_SKIP=1. The gateway
// listens on 127.0.0.1 on a free port and is killed by PID when the test ends.
package s3test
