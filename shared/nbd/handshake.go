package nbd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxOptReply bounds the payload of an option reply this client reads
// (an error reply carries a message; ACK carries nothing).
const maxOptReply = 4096

// maxExportName bounds the export name sent (XAPI's is a path and a ref).
const maxExportName = 4096

// greet reads the server greeting and answers with the client flags; it
// returns whether the server omits the export reply's padding.
func greet(rw io.ReadWriter) (noZeroes bool, err error) {
	var b [greetingLen]byte
	if _, err := io.ReadFull(rw, b[:]); err != nil {
		return false, fmt.Errorf("nbd greeting: %w", err)
	}
	flags, err := parseGreeting(b[:])
	if err != nil {
		return false, err
	}
	client := ClientFixedNewstyle
	if flags&FlagNoZeroes != 0 {
		client |= ClientNoZeroes
	}
	if _, err := rw.Write(binary.BigEndian.AppendUint32(nil, client)); err != nil {
		return false, fmt.Errorf("nbd client flags: %w", err)
	}
	return client&ClientNoZeroes != 0, nil
}

// option sends an option without data and reads its single reply: nil on
// NBD_REP_ACK, an *OptionError on an error reply.
func option(rw io.ReadWriter, opt uint32) error {
	if _, err := rw.Write(appendOption(nil, opt, nil)); err != nil {
		return fmt.Errorf("nbd %s: %w", OptionName(opt), err)
	}
	return readOptReply(rw, opt)
}

// readOptReply reads one option reply and its payload.
func readOptReply(r io.Reader, opt uint32) error {
	var b [optReplyLen]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return fmt.Errorf("nbd reply to %s: %w", OptionName(opt), err)
	}
	rep, err := parseOptReply(b[:], opt, maxOptReply)
	if err != nil {
		return err
	}
	data := make([]byte, rep.length)
	if _, err := io.ReadFull(r, data); err != nil {
		return fmt.Errorf("nbd reply %s to %s: payload: %w", ReplyName(rep.typ), OptionName(opt), err)
	}
	switch {
	case rep.typ == RepAck:
		return nil
	case rep.typ&(1<<31) != 0:
		return &OptionError{Option: opt, Reply: rep.typ, Message: printable(data)}
	}
	return fmt.Errorf("nbd reply to %s: unexpected %s", OptionName(opt), ReplyName(rep.typ))
}

// exportName sends NBD_OPT_EXPORT_NAME and reads the export's size and
// flags. A server refuses it by closing the connection: no reply exists.
func exportName(rw io.ReadWriter, name string, noZeroes bool) (Export, error) {
	if len(name) > maxExportName {
		return Export{}, fmt.Errorf("nbd %s: export name of %d bytes, more than %d", OptionName(OptExportName), len(name), maxExportName)
	}
	if _, err := rw.Write(appendOption(nil, OptExportName, []byte(name))); err != nil {
		return Export{}, fmt.Errorf("nbd %s: %w", OptionName(OptExportName), err)
	}
	n := exportReplyLen + exportZeroes
	if noZeroes {
		n = exportReplyLen
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(rw, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Export{}, fmt.Errorf("nbd %s: the server closed the connection: the export is unknown, "+
				"its session is no longer valid, or the server refused it", OptionName(OptExportName))
		}
		return Export{}, fmt.Errorf("nbd %s: reply: %w", OptionName(OptExportName), err)
	}
	if !bytes.Equal(b[exportReplyLen:], make([]byte, n-exportReplyLen)) {
		return Export{}, fmt.Errorf("nbd %s: reply padding is not zero", OptionName(OptExportName))
	}
	return parseExportReply(b[:exportReplyLen])
}
