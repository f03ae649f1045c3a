package xapi

import (
	"fmt"
	"strings"

	"xbr/shared/xapi/xmlrpc"
)

// ParseTaskResult decodes a task's result field. XAPI stores the result of
// an Async call as an XML-RPC <value> serialised to a string, on both
// transports (e.g. "<value>OpaqueRef:…</value>"; /import stores a ref set as
// "<value><array><data><value>OpaqueRef:…</value>…"). A void result is
// "<value></value>" and a task completed without a result keeps ""; both
// decode to "".
func ParseTaskResult(result string) (any, error) {
	if strings.TrimSpace(result) == "" {
		return "", nil
	}
	v, err := xmlrpc.Unmarshal([]byte(result))
	if err != nil {
		return nil, fmt.Errorf("task result %q: %w", xmlrpc.Excerpt(result), err)
	}
	return v, nil
}

// ParseTaskRef decodes a task result that is a single ref, such as the
// result of Async.VM.snapshot.
func ParseTaskRef(result string) (Ref, error) {
	v, err := ParseTaskResult(result)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok || !isRef(s) {
		return "", fmt.Errorf("task result %q is %s, not a ref", xmlrpc.Excerpt(result), describeValue(v))
	}
	return Ref(s), nil
}

// ParseTaskRefs decodes a task result that is a ref set, such as the VMs
// created by /import. A single ref is accepted as a set of one.
func ParseTaskRefs(result string) ([]Ref, error) {
	v, err := ParseTaskResult(result)
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok && isRef(s) {
		return []Ref{Ref(s)}, nil
	}
	ss, ok := xmlrpc.AsStrings(v)
	if !ok {
		return nil, fmt.Errorf("task result %q is %s, not a ref set", xmlrpc.Excerpt(result), describeValue(v))
	}
	out := make([]Ref, 0, len(ss))
	for _, s := range ss {
		if !isRef(s) {
			return nil, fmt.Errorf("task result %q: element %q is not a ref", xmlrpc.Excerpt(result), xmlrpc.Excerpt(s))
		}
		out = append(out, Ref(s))
	}
	return out, nil
}

// isRef reports whether s looks like an XAPI reference.
func isRef(s string) bool {
	return strings.HasPrefix(s, "OpaqueRef:") && len(s) > len("OpaqueRef:")
}
