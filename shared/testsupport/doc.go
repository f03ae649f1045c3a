// Package testsupport holds the helpers xbr's tests used to write again in
// every package: waiting for a condition (Eventually), an embedded
// JetStream server with xbr's streams (StartNATS), and the rule for a
// missing prerequisite (Missing: a failure under XBR_TEST_NO_SKIP=1, a skip
// otherwise), and the fn.Opener of directory remotes (OpenDir), so a
// function's tests need not link the assembly.
//
// Only _test.go files import it (depguard keeps it out of the binary).
package testsupport
