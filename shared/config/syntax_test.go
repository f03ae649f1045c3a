package config_test

import (
	"testing"

	"xbr/shared/config"
)

// TestSyntaxErrorPointsAtTheOffendingLine: the YAML parser reports where the
// enclosing block starts (line 1 for a bad indent on line 5); the error must
// name the line that breaks the file.
func TestSyntaxErrorPointsAtTheOffendingLine(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"key indented one space too little", "pools:\n  - name: lab\n    url: https://xcp.example\n    username: root\n   password: x\n",
			"xbr.yaml:5: syntax error: did not find expected '-' indicator"},
		{"key indented one space too little, earlier", "pools:\n  - name: lab\n    url: https://xcp.example\n   username: root\n    password: x\n",
			"xbr.yaml:4: syntax error: did not find expected '-' indicator"},
		{"mapping key out of line", "nats:\n  url: nats://a:4222\n  prefix: xbr\n listen: 127.0.0.1:4222\n",
			"xbr.yaml:4: syntax error: did not find expected key"},
		{"unclosed flow sequence", "jobs:\n  - name: a\n    remotes: [nfs,\n      s3\n    pools: [lab]\n",
			"xbr.yaml:4: syntax error: did not find expected ',' or ']'"}, // the line that lacks the ]
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("xbr.yaml", []byte(tt.text), env())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}
