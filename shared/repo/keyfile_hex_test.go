package repo_test

import (
	"strings"
	"testing"

	"xbr/shared/repo"
)

// A key file holding the key in hex (`openssl rand -hex 32`, the usual form of a 256-bit
// key) is refused with an error about its encoding. Today the 64 hex digits decode as
// base64 to 48 bytes and the error says "48 bytes, want 32": a key of the right length
// reported as one of the wrong length.
func TestHexKeyFileErrorNamesTheEncoding(t *testing.T) {
	hexKey := "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
	_, err := repo.ParseKey([]byte(hexKey))
	if err == nil {
		return // accepting hex is fine too
	}
	if strings.Contains(err.Error(), "48 bytes") || !strings.Contains(err.Error(), "base64") {
		t.Fatalf("ParseKey of a 256-bit key in hex: %v; want an error saying the key must be base64", err)
	}
}
