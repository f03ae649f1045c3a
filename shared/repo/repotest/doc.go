// Package repotest is the repository's suite for remote types: call Run from a remote's
// tests with a constructor of fresh, empty remotes; it writes, reads, deduplicates,
// collects and verifies restore points, plain and encrypted, as the incremental mode does.
// It also holds the helpers the repository's own tests share.
package repotest
