package nbd

import (
	"encoding/binary"
	"fmt"
)

// Protocol constants (NetworkBlockDevice/nbd doc/proto.md; all integers
// big-endian).
const (
	Magic           uint64 = 0x4e42444d41474943 // "NBDMAGIC"
	OptMagic        uint64 = 0x49484156454f5054 // "IHAVEOPT"
	OptReplyMagic   uint64 = 0x0003e889045565a9
	RequestMagic    uint32 = 0x25609513
	SimpleMagic     uint32 = 0x67446698
	StructuredMagic uint32 = 0x668e33ef

	FlagFixedNewstyle uint16 = 1 << 0 // handshake flags
	FlagNoZeroes      uint16 = 1 << 1

	ClientFixedNewstyle uint32 = 1 << 0 // client flags
	ClientNoZeroes      uint32 = 1 << 1

	TransHasFlags uint16 = 1 << 0 // transmission flags
	TransReadOnly uint16 = 1 << 1

	SectorSize = 512      // xapi-nbd refuses reads not aligned to it
	MaxRequest = 32 << 20 // the protocol's interoperable request size
)

// Options.
const (
	OptExportName      uint32 = 1
	OptAbort           uint32 = 2
	OptList            uint32 = 3
	OptStartTLS        uint32 = 5
	OptInfo            uint32 = 6
	OptGo              uint32 = 7
	OptStructuredReply uint32 = 8
	OptSetMetaContext  uint32 = 10
)

// Option reply types; errors have bit 31 set.
const (
	RepAck           uint32 = 1
	RepServer        uint32 = 2
	RepInfo          uint32 = 3
	RepErrUnsup      uint32 = 1<<31 + 1
	RepErrPolicy     uint32 = 1<<31 + 2
	RepErrInvalid    uint32 = 1<<31 + 3
	RepErrPlatform   uint32 = 1<<31 + 4
	RepErrTLSReqd    uint32 = 1<<31 + 5
	RepErrUnknown    uint32 = 1<<31 + 6
	RepErrShutdown   uint32 = 1<<31 + 7
	RepErrBlockSize  uint32 = 1<<31 + 8
	RepErrTooBig     uint32 = 1<<31 + 9
	RepErrExtHdrReqd uint32 = 1<<31 + 10
)

// Commands.
const (
	CmdRead        uint16 = 0
	CmdWrite       uint16 = 1
	CmdDisc        uint16 = 2
	CmdFlush       uint16 = 3
	CmdTrim        uint16 = 4
	CmdBlockStatus uint16 = 7
)

// Errnos a server sends in a simple reply.
const (
	EPERM     uint32 = 1
	EIO       uint32 = 5
	ENOMEM    uint32 = 12
	EINVAL    uint32 = 22
	ENOSPC    uint32 = 28
	EOVERFLOW uint32 = 75
	ENOTSUP   uint32 = 95
	ESHUTDOWN uint32 = 108
)

// Sizes of the fixed frames.
const (
	greetingLen    = 18  // NBDMAGIC, IHAVEOPT, u16 flags
	optReplyLen    = 20  // magic, option, type, length
	exportReplyLen = 10  // size, flags (then 124 zeros unless NO_ZEROES)
	exportZeroes   = 124 // the padding after the export reply
	requestLen     = 28
	simpleReplyLen = 16
)

var optionNames = map[uint32]string{
	OptExportName: "NBD_OPT_EXPORT_NAME", OptAbort: "NBD_OPT_ABORT", OptList: "NBD_OPT_LIST",
	OptStartTLS: "NBD_OPT_STARTTLS", OptInfo: "NBD_OPT_INFO", OptGo: "NBD_OPT_GO",
	OptStructuredReply: "NBD_OPT_STRUCTURED_REPLY", OptSetMetaContext: "NBD_OPT_SET_META_CONTEXT",
}

var replyNames = map[uint32]string{
	RepAck: "NBD_REP_ACK", RepServer: "NBD_REP_SERVER", RepInfo: "NBD_REP_INFO",
	RepErrUnsup: "NBD_REP_ERR_UNSUP", RepErrPolicy: "NBD_REP_ERR_POLICY", RepErrInvalid: "NBD_REP_ERR_INVALID",
	RepErrPlatform: "NBD_REP_ERR_PLATFORM", RepErrTLSReqd: "NBD_REP_ERR_TLS_REQD",
	RepErrUnknown: "NBD_REP_ERR_UNKNOWN", RepErrShutdown: "NBD_REP_ERR_SHUTDOWN",
	RepErrBlockSize: "NBD_REP_ERR_BLOCK_SIZE_REQD", RepErrTooBig: "NBD_REP_ERR_TOO_BIG",
	RepErrExtHdrReqd: "NBD_REP_ERR_EXT_HEADER_REQD",
}

var commandNames = map[uint16]string{
	CmdRead: "NBD_CMD_READ", CmdWrite: "NBD_CMD_WRITE", CmdDisc: "NBD_CMD_DISC", CmdFlush: "NBD_CMD_FLUSH",
	CmdTrim: "NBD_CMD_TRIM", CmdBlockStatus: "NBD_CMD_BLOCK_STATUS",
}

var errnoNames = map[uint32]string{
	EPERM: "EPERM", EIO: "EIO", ENOMEM: "ENOMEM", EINVAL: "EINVAL", ENOSPC: "ENOSPC",
	EOVERFLOW: "EOVERFLOW", ENOTSUP: "ENOTSUP", ESHUTDOWN: "ESHUTDOWN",
}

func name[K comparable](m map[K]string, k K) string {
	if n, ok := m[k]; ok {
		return n
	}
	return fmt.Sprintf("%v", k)
}

// OptionName, ReplyName, CommandName and ErrnoName spell protocol numbers
// as the protocol document does, or print the number when unknown.
func OptionName(o uint32) string  { return name(optionNames, o) }
func ReplyName(r uint32) string   { return name(replyNames, r) }
func CommandName(c uint16) string { return name(commandNames, c) }
func ErrnoName(e uint32) string   { return name(errnoNames, e) }

// parseGreeting reads the server's first 18 bytes and returns its
// handshake flags; a server that is not fixed newstyle is refused.
func parseGreeting(b []byte) (uint16, error) {
	if len(b) != greetingLen {
		return 0, fmt.Errorf("nbd greeting: %d bytes, want %d", len(b), greetingLen)
	}
	if m := binary.BigEndian.Uint64(b); m != Magic {
		return 0, fmt.Errorf("nbd greeting: magic %#016x, want NBDMAGIC %#016x", m, Magic)
	}
	if m := binary.BigEndian.Uint64(b[8:]); m != OptMagic {
		return 0, fmt.Errorf("nbd greeting: %#016x after NBDMAGIC, want IHAVEOPT %#016x (oldstyle server?)", m, OptMagic)
	}
	flags := binary.BigEndian.Uint16(b[16:])
	if flags&FlagFixedNewstyle == 0 {
		return 0, fmt.Errorf("nbd greeting: handshake flags %#04x lack FIXED_NEWSTYLE", flags)
	}
	return flags, nil
}

// optReply is an option reply header.
type optReply struct {
	option, typ, length uint32
}

// parseOptReply reads an option reply header; maxLen bounds the payload
// length the caller will accept.
func parseOptReply(b []byte, option uint32, maxLen uint32) (optReply, error) {
	if len(b) != optReplyLen {
		return optReply{}, fmt.Errorf("nbd option reply: %d bytes, want %d", len(b), optReplyLen)
	}
	r := optReply{option: binary.BigEndian.Uint32(b[8:]), typ: binary.BigEndian.Uint32(b[12:]),
		length: binary.BigEndian.Uint32(b[16:])}
	if m := binary.BigEndian.Uint64(b); m != OptReplyMagic {
		return r, fmt.Errorf("nbd reply to %s: magic %#016x, want %#016x", OptionName(option), m, OptReplyMagic)
	}
	if r.option != option {
		return r, fmt.Errorf("nbd reply to %s: names option %s", OptionName(option), OptionName(r.option))
	}
	if r.length > maxLen {
		return r, fmt.Errorf("nbd reply %s to %s: length %d, more than %d", ReplyName(r.typ), OptionName(option), r.length, maxLen)
	}
	return r, nil
}

// Export is what the server said of the export in its EXPORT_NAME reply.
type Export struct {
	Size  int64
	Flags uint16
}

// ReadOnly reports the READ_ONLY transmission flag.
func (e Export) ReadOnly() bool { return e.Flags&TransReadOnly != 0 }

// parseExportReply reads the u64 size and u16 flags of an EXPORT_NAME
// reply (the padding is read separately).
func parseExportReply(b []byte) (Export, error) {
	if len(b) != exportReplyLen {
		return Export{}, fmt.Errorf("nbd export reply: %d bytes, want %d", len(b), exportReplyLen)
	}
	size := binary.BigEndian.Uint64(b)
	flags := binary.BigEndian.Uint16(b[8:])
	if size > 1<<62 {
		return Export{}, fmt.Errorf("nbd export reply: size %d is out of range", size)
	}
	if flags&TransHasFlags == 0 {
		return Export{}, fmt.Errorf("nbd export reply: transmission flags %#04x lack HAS_FLAGS", flags)
	}
	return Export{Size: int64(size), Flags: flags}, nil
}

// simpleReply is a simple reply header.
type simpleReply struct {
	errno  uint32
	cookie uint64
}

// parseSimpleReply reads a simple reply header. A structured reply is an
// error: this client never negotiates them.
func parseSimpleReply(b []byte) (simpleReply, error) {
	if len(b) != simpleReplyLen {
		return simpleReply{}, fmt.Errorf("nbd reply: %d bytes, want %d", len(b), simpleReplyLen)
	}
	switch m := binary.BigEndian.Uint32(b); m {
	case SimpleMagic:
	case StructuredMagic:
		return simpleReply{}, fmt.Errorf("nbd reply: structured reply, which was never negotiated")
	default:
		return simpleReply{}, fmt.Errorf("nbd reply: magic %#08x, want %#08x", m, SimpleMagic)
	}
	return simpleReply{errno: binary.BigEndian.Uint32(b[4:]), cookie: binary.BigEndian.Uint64(b[8:])}, nil
}

// appendOption appends an option request.
func appendOption(b []byte, option uint32, data []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, OptMagic)
	b = binary.BigEndian.AppendUint32(b, option)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

// Request is a transmission request.
type Request struct {
	Flags  uint16
	Type   uint16
	Cookie uint64
	Offset uint64
	Length uint32
}

// AppendRequest appends r's 28 bytes.
func AppendRequest(b []byte, r Request) []byte {
	b = binary.BigEndian.AppendUint32(b, RequestMagic)
	b = binary.BigEndian.AppendUint16(b, r.Flags)
	b = binary.BigEndian.AppendUint16(b, r.Type)
	b = binary.BigEndian.AppendUint64(b, r.Cookie)
	b = binary.BigEndian.AppendUint64(b, r.Offset)
	return binary.BigEndian.AppendUint32(b, r.Length)
}

// ParseRequest reads a 28-byte request (the server side).
func ParseRequest(b []byte) (Request, error) {
	if len(b) != requestLen {
		return Request{}, fmt.Errorf("nbd request: %d bytes, want %d", len(b), requestLen)
	}
	if m := binary.BigEndian.Uint32(b); m != RequestMagic {
		return Request{}, fmt.Errorf("nbd request: magic %#08x, want %#08x", m, RequestMagic)
	}
	return Request{Flags: binary.BigEndian.Uint16(b[4:]), Type: binary.BigEndian.Uint16(b[6:]),
		Cookie: binary.BigEndian.Uint64(b[8:]), Offset: binary.BigEndian.Uint64(b[16:]),
		Length: binary.BigEndian.Uint32(b[24:])}, nil
}

// AppendSimpleReply appends a simple reply header.
func AppendSimpleReply(b []byte, errno uint32, cookie uint64) []byte {
	b = binary.BigEndian.AppendUint32(b, SimpleMagic)
	b = binary.BigEndian.AppendUint32(b, errno)
	return binary.BigEndian.AppendUint64(b, cookie)
}

// AppendOptReply appends an option reply with its data.
func AppendOptReply(b []byte, option, typ uint32, data []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, OptReplyMagic)
	b = binary.BigEndian.AppendUint32(b, option)
	b = binary.BigEndian.AppendUint32(b, typ)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}
