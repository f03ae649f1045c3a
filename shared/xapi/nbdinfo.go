package xapi

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"xbr/shared/nbd"
)

// NBDInfo is one vdi_nbd_server_info record: where and how to read a VDI
// over NBD. ExportName holds the caller's session: String and LogValue
// leave it out.
type NBDInfo struct {
	ExportName string // "/<vdi-uuid>?session_id=<ref>": a secret
	Address    string // an IP of a PIF on an NBD network
	Port       int64
	Cert       string // the host's TLS certificate, PEM (XAPI sends it on insecure_nbd networks too)
	Subject    string // the name the certificate is checked against
	// Plain is not in the record: the caller sets it when the pool's NBD
	// networks are insecure_nbd (PlainNBD), where xapi-nbd refuses TLS.
	Plain bool
}

// String describes the record without its export name.
func (i NBDInfo) String() string {
	return fmt.Sprintf("nbd://%s subject %q", net.JoinHostPort(i.Address, strconv.FormatInt(i.Port, 10)), i.Subject)
}

// LogValue logs the record without its export name.
func (i NBDInfo) LogValue() slog.Value { return slog.StringValue(i.String()) }

// NBDConfig is the nbd.Dial configuration for this record: TLS with the
// record's certificate and subject, or plain text when Plain is set. The
// record alone never decides plain text: XAPI fills Cert on both kinds of
// network, and falling back to plain text when TLS is refused would let a
// man in the middle read the export name, which holds the session.
func (i NBDInfo) NBDConfig() nbd.Config {
	cfg := nbd.Config{Address: net.JoinHostPort(i.Address, strconv.FormatInt(i.Port, 10)), ExportName: i.ExportName,
		CertPEM: i.Cert, ServerName: i.Subject, Insecure: i.Plain}
	if i.Plain {
		cfg.CertPEM = ""
	}
	return cfg
}

// PlainNBD reports whether the pool's NBD service speaks plain text: some
// network has purpose insecure_nbd and none has nbd (xapi-nbd's own rule;
// with both, or neither, it serves no one).
func PlainNBD(nets map[NetworkRef]Network) bool {
	secure, insecure := false, false
	for _, n := range nets {
		for _, p := range n.Purpose {
			secure = secure || p == "nbd"
			insecure = insecure || p == "insecure_nbd"
		}
	}
	return insecure && !secure
}

// NBDInfo calls VDI.get_nbd_info: one record per IP of each host that can
// serve the VDI over NBD. Empty when no network has the nbd or
// insecure_nbd purpose: read the disk another way then.
func (c *Client) NBDInfo(ctx context.Context, vdi VDIRef) ([]NBDInfo, error) {
	v, err := c.Call(ctx, "VDI.get_nbd_info", vdi)
	if err != nil {
		return nil, err
	}
	out, err := decodeNBDInfos(v)
	if err != nil {
		return nil, fmt.Errorf("VDI.get_nbd_info %s: %w", vdi, err)
	}
	return out, nil
}

// decodeNBDInfos decodes the set of records, checking each field.
func decodeNBDInfos(v any) ([]NBDInfo, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("result is %s, not an array", describeValue(v))
	}
	out := make([]NBDInfo, 0, len(list))
	for n, rv := range list {
		f := newFields("vdi_nbd_server_info", rv)
		i := NBDInfo{ExportName: f.str("exportname"), Address: f.str("address"), Port: f.integer("port"),
			Cert: f.str("cert"), Subject: f.str("subject")}
		if f.err != nil {
			return nil, fmt.Errorf("record %d: %w", n, f.err)
		}
		// XAPI lists each PIF.IPv6 entry as stored: "<ipv6>/<prefix length>"
		// (xapi_vdi.ml _get_nbd_info; helpers.ml stores them so).
		if a, _, ok := strings.Cut(i.Address, "/"); ok && strings.Contains(a, ":") {
			i.Address = a
		}
		if i.ExportName == "" || net.ParseIP(i.Address) == nil || i.Port < 1 || i.Port > 65535 {
			return nil, fmt.Errorf("record %d: address %q port %d (or its export name) is not usable", n, i.Address, i.Port)
		}
		out = append(out, i)
	}
	return out, nil
}
