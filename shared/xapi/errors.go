package xapi

import (
	"errors"
	"strings"
)

// Error is a failure reported by XAPI: an error code such as
// "SESSION_INVALID" or "VM_BAD_POWER_STATE" and its parameters. XAPI sends
// it in the response envelope (XML-RPC ErrorDescription, JSON-RPC error) or
// in a failed task's error_info.
type Error struct {
	Code   string
	Params []string
}

func (e *Error) Error() string {
	if len(e.Params) == 0 {
		return "XAPI " + e.Code
	}
	return "XAPI " + e.Code + " [" + strings.Join(e.Params, ", ") + "]"
}

// ErrStalled marks a transfer that failed because the host sent or read
// nothing for the stall timeout (see WithStallTimeout).
var ErrStalled = errors.New("the transfer stalled")

// newError builds an *Error from an error description list [code, params...].
func newError(desc []string) *Error {
	if len(desc) == 0 {
		return &Error{Code: "INTERNAL_ERROR", Params: []string{"empty error description"}}
	}
	return &Error{Code: desc[0], Params: append([]string(nil), desc[1:]...)}
}

// IsCode reports whether err is, or wraps, an XAPI *Error with that code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Codes used by the client itself.
const (
	CodeSessionInvalid           = "SESSION_INVALID"
	CodeAuthFailed               = "SESSION_AUTHENTICATION_FAILED"
	CodeParamCountMismatch       = "MESSAGE_PARAMETER_COUNT_MISMATCH"
	CodeHandleInvalid            = "HANDLE_INVALID"
	CodeVDIInUse                 = "VDI_IN_USE"
	CodeTaskCancelled            = "TASK_CANCELLED"
	CodeOperationBlocked         = "OPERATION_BLOCKED"
	CodeBadPowerState            = "VM_BAD_POWER_STATE"
	CodeOtherOperationInProgress = "OTHER_OPERATION_IN_PROGRESS"
	CodeHostIsSlave              = "HOST_IS_SLAVE"
)
