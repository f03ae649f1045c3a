package xapi

import (
	"testing"

	"xbr/shared/xapi/xmlrpc"
)

// FuzzVMViewEvents feeds event.from results (as JSON-RPC values) to the VM
// view: garbage is an error naming what is wrong, never a panic.
func FuzzVMViewEvents(f *testing.F) {
	f.Add([]byte(`{"events":[{"class":"vm","operation":"add","ref":"OpaqueRef:1","snapshot":{"uuid":"u","name_label":"a"}}],"token":"1,0"}`))
	f.Add([]byte(`{"events":[{"class":"vm","operation":"del","ref":"OpaqueRef:1"}],"token":"2,0"}`))
	f.Add([]byte(`{"events":[{"class":"vm","operation":"mod","ref":"OpaqueRef:1","snapshot":[]}],"token":7}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := xmlrpc.DecodeJSON(data)
		if err != nil {
			return
		}
		c := &vmCache{vms: map[VMRef]VM{}}
		if _, err := c.apply(v); err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
	})
}
