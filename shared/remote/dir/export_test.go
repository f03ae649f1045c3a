package dir

import "io"

// WithWriteHook puts wrap between every upload and its temp file (fault injection in tests).
func WithWriteHook(wrap func(io.Writer) io.Writer) Option {
	return func(o *options) { o.wrapWrite = wrap }
}
