package repo

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
)

// KeySize is the length of a repository key in bytes.
const KeySize = 32

// Key is a repository's secret key. It redacts itself wherever it could be printed; its
// only outside form is the key file (EncodeKey, ReadKeyFile).
type Key struct{ b []byte }

// String redacts the key.
func (Key) String() string { return "[redacted]" }

// GoString redacts the key.
func (Key) GoString() string { return "[redacted]" }

// LogValue redacts the key.
func (Key) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalJSON redacts the key.
func (Key) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// IsZero reports whether k holds no key (a plain repository).
func (k Key) IsZero() bool { return len(k.b) == 0 }

// GenerateKey returns a new random key.
func GenerateKey() (Key, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return Key{}, fmt.Errorf("generate repository key: %w", err)
	}
	return Key{b: b}, nil
}

// EncodeKey is the key file's content: the key in standard base64 and a newline.
func EncodeKey(k Key) []byte {
	return []byte(base64.StdEncoding.EncodeToString(k.b) + "\n")
}

// ParseKey parses a key file's content. The error never quotes the content.
func ParseKey(text []byte) (Key, error) {
	text = bytes.TrimSpace(text)
	if len(text) == 2*KeySize && isHex(text) { // base64 would read 48 bytes: say what it is
		return Key{}, errors.New("repository key: hex digits, want the key in standard base64 (as `xbr repo key` writes it)")
	}
	b, err := base64.StdEncoding.DecodeString(string(text))
	if err != nil {
		return Key{}, errors.New("repository key: not standard base64")
	}
	if len(b) != KeySize {
		return Key{}, fmt.Errorf("repository key: %d bytes, want %d", len(b), KeySize)
	}
	return Key{b: b}, nil
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// ReadKeyFile reads a key file written by WriteKeyFile (`xbr repo key`).
func ReadKeyFile(path string) (Key, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("encryption key file %q: %w", path, err)
	}
	k, err := ParseKey(text)
	if err != nil {
		return Key{}, fmt.Errorf("encryption key file %q: %w", path, err)
	}
	return k, nil
}

// WriteKeyFile writes k to a new file at path, readable by its owner only. It never replaces
// an existing file: losing a key loses the repository.
func WriteKeyFile(path string, k Key) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("encryption key file %q: %w", path, err)
	}
	_, err = f.Write(EncodeKey(k))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("encryption key file %q: %w", path, err)
	}
	return nil
}

// Purposes of the keys derived from a repository key (HKDF-SHA-256 with the repository's
// salt); the key check value proves the key without revealing it or the other keys.
const (
	infoIDKey    = "xbr-repo v1 chunk id"
	infoDataKey  = "xbr-repo v1 data"
	infoKeyCheck = "xbr-repo v1 key check"
)

// derive returns the key for purpose info.
func (k Key) derive(salt []byte, info string) []byte {
	out, err := hkdf.Key(sha256.New, k.b, salt, info, KeySize)
	if err != nil { // only for lengths HKDF cannot give; ours is fixed
		panic(fmt.Sprintf("derive repository key: %v", err))
	}
	return out
}
