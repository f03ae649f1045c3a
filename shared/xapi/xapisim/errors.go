package xapisim

import (
	"errors"
	"strings"
)

// Failure is an XAPI API error: a code and its parameters, sent as
// ErrorDescription (XML-RPC) or the error member (JSON-RPC).
type Failure struct {
	Code   string
	Params []string
}

func (f *Failure) Error() string {
	if len(f.Params) == 0 {
		return f.Code
	}
	return f.Code + " [" + strings.Join(f.Params, ", ") + "]"
}

// Description is the ErrorDescription array: the code followed by the params.
func (f *Failure) Description() []string { return append([]string{f.Code}, f.Params...) }

func fail(code string, params ...string) *Failure { return &Failure{Code: code, Params: params} }

// asFailure turns any error into an API failure (INTERNAL_ERROR when it is not one).
func asFailure(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return fail("INTERNAL_ERROR", err.Error())
}

func handleInvalid(class, ref string) *Failure { return fail("HANDLE_INVALID", class, ref) }
