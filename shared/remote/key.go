package remote

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Key limits. A segment leaves room under the usual 255-byte file-name limit for the temp
// affix dir adds while writing; a key fits S3's 1024-byte limit.
const (
	MaxKeyLen     = 1024
	MaxSegmentLen = 200
)

// tempHexLen is the length of the random part of a temp name.
const tempHexLen = 16

// TempFolder is the hidden folder at a remote's root where a directory remote keeps its temp
// files, under the key's own path: ".xbr-tmp/xo-vm-backups/<vm>/.<name>.<random>.tmp".
// Xen Orchestra's cleanVm deletes every unclaimed file in a VM folder, hidden ones too, so
// temp files never live there; XO ignores dot-entries at the root (its encryption set-up and
// its VM listing skip them). A key never starts with this folder.
const TempFolder = ".xbr-tmp"

// ValidateKey checks a key: a relative, slash-separated path of valid UTF-8, at most
// MaxKeyLen bytes, with no empty, "." or ".." segment, no segment longer than MaxSegmentLen,
// no backslash, no control character (C0, DEL or C1), and no segment reserved for temp
// files (see IsTempName). It is the one check that keeps a key inside its remote (a folder
// or a bucket prefix). The error wraps ErrInvalidKey and quotes the key.
func ValidateKey(key string) error {
	if reason := keyProblem(key); reason != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, reason)
	}
	return nil
}

// ValidatePrefix checks a List prefix: "" (everything), or a key, optionally ending in "/".
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if reason := keyProblem(strings.TrimSuffix(prefix, "/")); reason != "" {
		return fmt.Errorf("%w: prefix %q: %s", ErrInvalidKey, prefix, reason)
	}
	return nil
}

func keyProblem(key string) string {
	switch {
	case key == "":
		return "empty"
	case len(key) > MaxKeyLen:
		return fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	case !utf8.ValidString(key):
		return "not valid UTF-8"
	case key[0] == '/':
		return "absolute path"
	case strings.ContainsRune(key, '\\'):
		return "contains a backslash"
	}
	for i, r := range key {
		switch {
		case r < 0x20 || r == 0x7f:
			return fmt.Sprintf("control byte 0x%02x at offset %d", r, i)
		case unicode.IsControl(r): // C1: terminals and some tools act on them
			return fmt.Sprintf("control character %U at offset %d", r, i)
		}
	}
	for i, seg := range strings.Split(key, "/") {
		if i == 0 && seg == TempFolder {
			return fmt.Sprintf("folder %q is reserved for temp files", seg)
		}
		if reason := segmentProblem(seg); reason != "" {
			return reason
		}
	}
	return ""
}

func segmentProblem(seg string) string {
	switch {
	case seg == "":
		return "empty path segment"
	case seg == "." || seg == "..":
		return fmt.Sprintf("path segment %q", seg)
	case len(seg) > MaxSegmentLen:
		return fmt.Sprintf("path segment longer than %d bytes", MaxSegmentLen)
	case IsTempName(seg):
		return fmt.Sprintf("path segment %q is reserved for temp files", seg)
	}
	return ""
}

// TempName returns the name of the temp file that stands for base while it is written:
// ".<base>.<random>.tmp", where random is 16 lowercase hex digits.
func TempName(base, random string) string {
	return "." + base + "." + random + ".tmp"
}

// IsTempName reports whether a path segment has the shape TempName produces.
func IsTempName(seg string) bool {
	_, ok := TempBase(seg)
	return ok
}

// TempBase returns the base name a temp name stands for, and whether seg is a temp name.
func TempBase(seg string) (string, bool) {
	const suffix = ".tmp"
	if len(seg) < 1+1+1+tempHexLen+len(suffix) || seg[0] != '.' || !strings.HasSuffix(seg, suffix) {
		return "", false
	}
	rest := seg[1 : len(seg)-len(suffix)]
	hex := rest[len(rest)-tempHexLen:]
	for i := 0; i < len(hex); i++ {
		if !strings.ContainsRune("0123456789abcdef", rune(hex[i])) {
			return "", false
		}
	}
	base := rest[:len(rest)-tempHexLen]
	if !strings.HasSuffix(base, ".") {
		return "", false
	}
	return strings.TrimSuffix(base, "."), true
}
