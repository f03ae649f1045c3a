package config

import (
	"fmt"
	"log/slog"
)

const redacted = "***"

// Secret holds a password, key or token. Every way of printing or encoding
// it (String, GoString, fmt verbs, slog, JSON, YAML) yields "***"; Reveal is
// the only way to read it.
type Secret struct {
	value string
	// unresolved: given by a reference that WithoutSecrets did not resolve.
	unresolved bool
}

// NewSecret wraps a value.
func NewSecret(value string) Secret { return Secret{value: value} }

// Reveal returns the secret value; call it only where the value is used.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret is non-empty (or given by a reference
// left unresolved by WithoutSecrets).
func (s Secret) IsSet() bool { return s.value != "" || s.unresolved }

// String redacts.
func (s Secret) String() string { return redacted }

// GoString redacts (%#v).
func (s Secret) GoString() string { return redacted }

// Format redacts under every fmt verb, so %x or %d cannot print the value.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue redacts in log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON redacts.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalYAML redacts.
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// MarshalText redacts (encoding/xml, text-based encoders).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
