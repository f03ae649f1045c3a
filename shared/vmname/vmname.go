package vmname

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrNotFound is a VM name no known VM carries.
var ErrNotFound = errors.New("no VM of that name")

// MaxLen bounds a VM a client may send.
const MaxLen = 256

// Known is a VM as a listing knows it: uuid, name, and pool ("" when
// unknown).
type Known struct{ UUID, Name, Pool string }

// Match is one VM a name designates: its uuid and pool ("" when unknown).
type Match struct {
	UUID string `json:"uuid"`
	Pool string `json:"pool,omitempty"`
}

func (m Match) String() string {
	if m.Pool == "" {
		return m.UUID
	}
	return m.UUID + " in pool " + m.Pool
}

// AmbiguousError is a VM name several VMs share; the caller must give a
// uuid instead.
type AmbiguousError struct {
	Name    string
	Matches []Match // sorted by uuid
}

func (e *AmbiguousError) Error() string {
	list := make([]string, len(e.Matches))
	for i, m := range e.Matches {
		list[i] = m.String()
	}
	return fmt.Sprintf("vm %q: names %d VMs (%s): give the uuid", e.Name, len(e.Matches), strings.Join(list, ", "))
}

// NotFoundError is a VM name no known VM carries; it matches ErrNotFound.
type NotFoundError struct {
	Name string
	// Where says where it was looked for: "has a backup" (the default),
	// "is in the history", ...
	Where string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("vm: no VM named %q %s", e.Name, cmp.Or(e.Where, "has a backup"))
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// IsUUID reports whether vm is written as a uuid (8-4-4-4-12 hex digits, in
// either case) rather than a name.
func IsUUID(vm string) bool {
	if len(vm) != 36 {
		return false
	}
	for i := 0; i < len(vm); i++ {
		c := vm[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
			return false
		}
	}
	return true
}

// Check accepts what a client may send as a VM: 1-256 bytes of printable
// UTF-8.
func Check(vm string) error {
	switch {
	case strings.TrimSpace(vm) == "":
		return errors.New("vm: is empty")
	case len(vm) > MaxLen:
		return fmt.Errorf("vm %.40q…: longer than %d bytes", vm, MaxLen)
	case !utf8.ValidString(vm) || strings.IndexFunc(vm, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return fmt.Errorf("vm %q: contains a control character or invalid UTF-8", vm)
	}
	return nil
}

// Resolve is the uuid of the VM vm designates among known: a uuid is itself
// (in lower case), known or not; a name is the uuid of the one VM of exactly
// that name. A name none carries is a *NotFoundError, a name several VMs
// share an *AmbiguousError listing them.
func Resolve(vm string, known []Known) (string, error) {
	if IsUUID(vm) {
		return strings.ToLower(vm), nil
	}
	var matches []Match
	for _, k := range known {
		if k.Name != vm {
			continue
		}
		m := Match{UUID: k.UUID, Pool: k.Pool}
		if i := slices.IndexFunc(matches, func(x Match) bool { return x.UUID == m.UUID }); i < 0 {
			matches = append(matches, m)
		} else if matches[i].Pool == "" {
			matches[i].Pool = m.Pool
		}
	}
	switch {
	case len(matches) == 0:
		return "", &NotFoundError{Name: vm}
	case len(matches) > 1:
		slices.SortFunc(matches, func(a, b Match) int { return strings.Compare(a.UUID, b.UUID) })
		return "", &AmbiguousError{Name: vm, Matches: matches}
	}
	return matches[0].UUID, nil
}
