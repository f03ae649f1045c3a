// Package suggest proposes the known word closest to a misspelt one, for
// the "did you mean" of error messages (configuration fields, chat
// commands).
package suggest
