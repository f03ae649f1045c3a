// Package cli builds xbr's command tree. Commands parse flags and call into
// the packages that do the work; no business logic lives here.
package cli
