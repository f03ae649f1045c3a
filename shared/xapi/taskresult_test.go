package xapi_test

import (
	"reflect"
	"strings"
	"testing"

	"xbr/shared/xapi"
)

func TestParseTaskResult(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		ref     xapi.Ref
		refs    []xapi.Ref
		wantErr string // for ParseTaskRefs
	}{
		{"snapshot", "<value>OpaqueRef:abc</value>", "OpaqueRef:abc", []xapi.Ref{"OpaqueRef:abc"}, ""},
		{"import", "<value><array><data><value>OpaqueRef:a</value><value>OpaqueRef:b</value></data></array></value>", "", []xapi.Ref{"OpaqueRef:a", "OpaqueRef:b"}, ""},
		{"empty set", "<value><array><data></data></array></value>", "", []xapi.Ref{}, ""},
		{"not a ref", "<value>hello</value>", "", nil, "not a ref set"},
		{"garbage", "<value><array>", "", nil, "task result"},
		{"struct", "<value><struct></struct></value>", "", nil, "not a ref set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := xapi.ParseTaskRef(tt.in)
			if tt.ref != "" && (err != nil || ref != tt.ref) {
				t.Fatalf("ParseTaskRef = %q, %v, want %q", ref, err, tt.ref)
			}
			if tt.ref == "" && err == nil {
				t.Fatalf("ParseTaskRef(%q) = %q, want an error", tt.in, ref)
			}
			refs, err := xapi.ParseTaskRefs(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseTaskRefs = %v, %v, want error containing %q", refs, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(refs, tt.refs) {
				t.Fatalf("ParseTaskRefs = %v, %v, want %v", refs, err, tt.refs)
			}
		})
	}
}

func TestParseTaskResultVoid(t *testing.T) {
	for _, in := range []string{"", "<value></value>"} {
		v, err := xapi.ParseTaskResult(in)
		if err != nil || v != "" {
			t.Fatalf("ParseTaskResult(%q) = %#v, %v, want \"\"", in, v, err)
		}
	}
}

func FuzzParseTaskResult(f *testing.F) {
	for _, s := range []string{
		"", "<value></value>", "<value>OpaqueRef:abc</value>",
		"<value><array><data><value>OpaqueRef:a</value></data></array></value>",
		"<value><struct><member><name>x</name><value><i4>1</i4></value></member></struct></value>",
		"<value><array><data>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		v, err := xapi.ParseTaskResult(in)
		if err != nil && v != nil {
			t.Fatalf("value %#v with error %v", v, err)
		}
		refs, err := xapi.ParseTaskRefs(in)
		if err == nil {
			for _, r := range refs {
				if !strings.HasPrefix(string(r), "OpaqueRef:") {
					t.Fatalf("ParseTaskRefs(%q) returned non-ref %q", in, r)
				}
			}
		}
		if ref, err := xapi.ParseTaskRef(in); err == nil && !strings.HasPrefix(string(ref), "OpaqueRef:") {
			t.Fatalf("ParseTaskRef(%q) returned non-ref %q", in, ref)
		}
	})
}
