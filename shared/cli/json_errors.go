package cli

import (
	"encoding/json"
	"io"

	"github.com/spf13/cobra"
)

// annotationJSONStream marks a command whose --json output is a stream of
// objects ending with a "result" (followOpts.add sets it).
const annotationJSONStream = "xbr-json-stream"

// jsonFailure is what a command run with --json prints on stdout when it
// fails before printing its document: the error, as on stderr, and the
// exit code.
type jsonFailure struct {
	Error    string `json:"error"`
	ExitCode int    `json:"exit_code"`
}

// watchJSONOutput makes every command with a --json flag note, when run
// with it, whether it wrote on stdout: writeJSONError must not append a
// second document to one already out.
func watchJSONOutput(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("json") != nil && c.PreRunE == nil && c.PreRun == nil {
			c.PreRunE = func(c *cobra.Command, _ []string) error {
				if jsonMode(c) {
					c.SetOut(&outputWatch{w: c.OutOrStdout()})
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// outputWatch is a writer that notes whether anything was written.
type outputWatch struct {
	w     io.Writer
	wrote bool
}

func (o *outputWatch) Write(p []byte) (int, error) {
	o.wrote = o.wrote || len(p) > 0
	return o.w.Write(p)
}

// jsonMode reports whether c was run with --json.
func jsonMode(c *cobra.Command) bool {
	if c == nil {
		return false
	}
	f := c.Flags().Lookup("json")
	return f != nil && f.Value.String() == "true"
}

// writeJSONError puts the failure of c, run with --json, on stdout as
// JSON: a stream ends with its "result" object carrying the error; a
// command that prints one document prints {"error", "exit_code"} instead,
// unless its document is already out (it then tells what failed, as
// `verify` does).
func writeJSONError(c *cobra.Command, stdout io.Writer, msg string, code int) {
	enc := json.NewEncoder(stdout)
	if c.Annotations[annotationJSONStream] != "" {
		_ = enc.Encode(jsonLine{Type: "result", Error: msg, ExitCode: &code})
		return
	}
	if w, ok := c.OutOrStdout().(*outputWatch); ok && w.wrote {
		return
	}
	_ = enc.Encode(jsonFailure{Error: msg, ExitCode: code})
}
