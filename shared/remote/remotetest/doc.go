// Package remotetest is the conformance suite that every remote.Remote implementation passes:
// call Run from the implementation's tests with a constructor of fresh, empty remotes. Run
// includes the keys that try to leave the remote. A remote kept in a directory tree also runs
// RunLinks: symbolic links planted in the tree never lead out of it.
package remotetest
