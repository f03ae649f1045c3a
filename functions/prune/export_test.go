package prune

// Internal parsers, exported for the fuzz tests of package prune_test.
var (
	ParseDatetime = parseDatetime
	DataFileID    = dataFileID
)
