package config

import "go.yaml.in/yaml/v3"

// RedactedYAML is the configuration as YAML with every secret written as
// "***" (Secret's MarshalYAML): what xbr keeps beside a pool
// metadata backup, never a password, key or token.
func (c *Config) RedactedYAML() ([]byte, error) { return yaml.Marshal(c) }
