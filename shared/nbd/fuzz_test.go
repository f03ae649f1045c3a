package nbd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// serverBytes is a reader of what a server sent and a sink for the client.
type serverBytes struct {
	io.Reader
	io.Writer
}

// goodSession is a valid plain-text server side: greeting, export reply,
// one read reply with 512 bytes.
func goodSession() []byte {
	b := binary.BigEndian.AppendUint64(nil, Magic)
	b = binary.BigEndian.AppendUint64(b, OptMagic)
	b = binary.BigEndian.AppendUint16(b, FlagFixedNewstyle)
	b = binary.BigEndian.AppendUint64(b, 1<<20)
	b = binary.BigEndian.AppendUint16(b, TransHasFlags|TransReadOnly)
	b = append(b, make([]byte, exportZeroes)...)
	b = AppendSimpleReply(b, 0, 1)
	return append(b, bytes.Repeat([]byte{1}, 512)...)
}

// FuzzHandshake feeds arbitrary server bytes to the whole plain-text
// client path: greeting, export reply, one read reply. Garbage is an
// error, never a panic, and a success means well-formed frames.
func FuzzHandshake(f *testing.F) {
	f.Add(goodSession())
	f.Add(goodSession()[:greetingLen])
	noZ := goodSession()
	binary.BigEndian.PutUint16(noZ[16:], FlagFixedNewstyle|FlagNoZeroes)
	f.Add(noZ)
	f.Add([]byte("NBDMAGIC\x00\x00\x42\x02\x81\x86\x12\x53"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rw := serverBytes{bytes.NewReader(data), io.Discard}
		noZeroes, err := greet(rw)
		if err != nil {
			return
		}
		exp, err := exportName(rw, "/x?session_id=OpaqueRef:s", noZeroes)
		if err != nil {
			return
		}
		if exp.Size < 0 || exp.Flags&TransHasFlags == 0 {
			t.Fatalf("accepted export %+v", exp)
		}
		var h [simpleReplyLen]byte
		if _, err := io.ReadFull(rw, h[:]); err != nil {
			return
		}
		_, _ = parseSimpleReply(h[:])
	})
}

// FuzzOptReply: any option reply is accepted, refused with an
// *OptionError, or rejected; payload lengths stay bounded.
func FuzzOptReply(f *testing.F) {
	f.Add(AppendOptReply(nil, OptStartTLS, RepAck, nil))
	f.Add(AppendOptReply(nil, OptStartTLS, RepErrPolicy, []byte("no TLS here")))
	f.Add(AppendOptReply(nil, OptGo, RepErrUnsup, nil))
	f.Add(AppendOptReply(nil, OptStartTLS, RepInfo, []byte{0, 0}))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := readOptReply(bytes.NewReader(data), OptStartTLS)
		if err == nil && (len(data) < optReplyLen || binary.BigEndian.Uint32(data[12:]) != RepAck) {
			t.Fatalf("accepted %x", data)
		}
		var oe *OptionError
		if errors.As(err, &oe) && len(oe.Message) > 200 {
			t.Fatalf("message of %d bytes", len(oe.Message))
		}
	})
}

// FuzzSimpleReply: the reply header parser never panics, and accepts
// only the simple magic.
func FuzzSimpleReply(f *testing.F) {
	f.Add(AppendSimpleReply(nil, 0, 7))
	f.Add(AppendSimpleReply(nil, EINVAL, 1<<63))
	f.Add(binary.BigEndian.AppendUint32(nil, StructuredMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseSimpleReply(data)
		if err == nil && (len(data) != simpleReplyLen || binary.BigEndian.Uint32(data) != SimpleMagic ||
			r.cookie != binary.BigEndian.Uint64(data[8:])) {
			t.Fatalf("accepted %x as %+v", data, r)
		}
	})
}

// FuzzExportReply: sizes and flags are range-checked.
func FuzzExportReply(f *testing.F) {
	f.Add(goodSession()[greetingLen : greetingLen+exportReplyLen])
	f.Add(bytes.Repeat([]byte{0xff}, exportReplyLen))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := parseExportReply(data)
		if err == nil && (e.Size < 0 || e.Flags&TransHasFlags == 0) {
			t.Fatalf("accepted %+v", e)
		}
	})
}
