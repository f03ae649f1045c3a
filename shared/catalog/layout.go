package catalog

import (
	"fmt"
	"time"
)

// Layout constants: XO's folder for VM backups and the file suffixes of one backup.
const (
	Root           = "xo-vm-backups/"
	MetaSuffix     = ".json"
	DataSuffix     = ".xva"
	ChecksumSuffix = ".xva.checksum"
)

// TimestampLayout is XO's file-name date: d3's utcFormat('%Y%m%dT%H%M%SZ').
const TimestampLayout = "20060102T150405Z"

// FormatTimestamp returns t in UTC, truncated to the second, as "20231012T101112Z".
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format(TimestampLayout)
}

// ParseTimestamp parses "20231012T101112Z" strictly: exactly 16 bytes, digits where digits
// go, a real UTC date and time. The error quotes the value.
func ParseTimestamp(s string) (time.Time, error) {
	if !timestampShape(s) {
		return time.Time{}, fmt.Errorf("timestamp %q: want YYYYMMDDTHHMMSSZ", s)
	}
	t, err := time.Parse(TimestampLayout, s)
	if err != nil || t.Format(TimestampLayout) != s {
		return time.Time{}, fmt.Errorf("timestamp %q: not a valid UTC date and time", s)
	}
	return t, nil
}

func timestampShape(s string) bool {
	if len(s) != len(TimestampLayout) || s[8] != 'T' || s[15] != 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i != 8 && i != 15 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// VMPrefix is the folder holding one VM's backups: "xo-vm-backups/<uuid>/". uuid is not
// checked; use ValidateVMUUID on outside input.
func VMPrefix(vmUUID string) string {
	return Root + vmUUID + "/"
}

// ValidateVMUUID accepts a canonical lowercase UUID (8-4-4-4-12 hex digits), as XAPI writes
// them and as XO names the VM folders.
func ValidateVMUUID(s string) error {
	if len(s) != 36 {
		return fmt.Errorf("vm uuid %q: want 36 bytes (8-4-4-4-12 lowercase hex), got %d", s, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return fmt.Errorf("vm uuid %q: want '-' at offset %d", s, i)
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return fmt.Errorf("vm uuid %q: byte %q at offset %d is not a lowercase hex digit", s, c, i)
			}
		}
	}
	return nil
}
