// Package remotetest is the conformance suite that every remote.Remote implementation passes:
// call Run from the implementation's tests with a constructor of fresh, empty remotes.
package remotetest
