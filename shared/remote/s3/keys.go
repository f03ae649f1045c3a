package s3

import (
	"fmt"
	"strings"

	"xbr/shared/remote"
)

// The one place where keys and object names meet. Every request names an object or a
// prefix built by objectName or prefixName, which check the key with remote.ValidateKey
// (no ".." or "." segment, no leading "/", no empty segment, no control character) before
// adding the configured prefix, so no request reaches beside or above the prefix. Names
// coming back from the service become keys only through keyOf, which applies the same rules.

// objectName returns the object name of key.
func (b *Bucket) objectName(op, key string) (string, error) {
	if err := remote.ValidateKey(key); err != nil {
		return "", fmt.Errorf("remote %s: %s: %w", b.name, op, err)
	}
	return b.prefix + key, nil
}

// prefixName returns the object-name prefix of a List or ListTemp prefix.
func (b *Bucket) prefixName(op, prefix string) (string, error) {
	if err := remote.ValidatePrefix(prefix); err != nil {
		return "", fmt.Errorf("remote %s: %s: %w", b.name, op, err)
	}
	return b.prefix + prefix, nil
}

// keyOf returns the key of an object name the service listed, and false for a name that
// is not under the prefix or not a valid key (written by something else).
func (b *Bucket) keyOf(name string) (string, bool) {
	key, ok := strings.CutPrefix(name, b.prefix)
	if !ok || remote.ValidateKey(key) != nil {
		return "", false
	}
	return key, true
}
