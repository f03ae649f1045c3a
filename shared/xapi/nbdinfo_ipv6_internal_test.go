package xapi

import "testing"

// TestNBDInfoIPv6AsXAPIStoresIt: XAPI's get_nbd_info lists, per NBD PIF,
// PIF.IP and then every PIF.IPv6 entry verbatim (xapi_vdi.ml
// _get_nbd_info), and XAPI stores IPv6 addresses as "<ipv6>/<prefix>"
// (helpers.ml, nm.ml: "IPv6 addresses are stored with this format:
// <ipv6>/<cidr>"). A host whose NBD network also has an IPv6 address must
// still give its IPv4 record (and, ideally, the IPv6 one without its
// prefix): one such record must not make the whole answer unusable, or
// every run of every disk on that host falls back to a full scan (no-nbd).
func TestNBDInfoIPv6AsXAPIStoresIt(t *testing.T) {
	rec := func(addr string) map[string]any {
		return map[string]any{"exportname": "/u?session_id=OpaqueRef:s", "address": addr, "port": int64(10809),
			"cert": "PEM", "subject": "host1"}
	}
	infos, err := decodeNBDInfos([]any{rec("10.0.0.1"), rec("fd00::1/64")})
	if err != nil {
		t.Fatalf("get_nbd_info with an IPv4 and an IPv6 record (as XAPI stores PIF.IPv6): %v", err)
	}
	if len(infos) == 0 || infos[0].Address != "10.0.0.1" {
		t.Fatalf("records %v: want the IPv4 one at least", infos)
	}
}
